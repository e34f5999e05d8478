from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from tracker.formutil import EventDateField, TrackerForm, options
from tracker.rules.labels import PROPOSAL_KINDS


class ReviewForm(TrackerForm):
    """Complete what the parser could not read, so the letter joins its proposal."""

    session = StringField(
        "会议届次",
        validators=[DataRequired("请填写会议届次。"), Length(max=80)],
        description="如：市十六届人大一次会议",
    )
    year = IntegerField("会议年份", validators=[Optional(), NumberRange(1949, 2100, "年份无效。")])
    kind = SelectField("类别", choices=options([(k, k) for k in PROPOSAL_KINDS]))
    number = StringField("编号", validators=[DataRequired("请填写建议/提案编号。"), Length(max=32)])
    # what else the letter prints and the parser may not have read
    letter_on = EventDateField("成文日期", validators=[Optional()])
    doc_number = StringField("文号", validators=[Optional(), Length(max=60)])
    classification = SelectField("答复类别", validators=[Optional()])
    disclosure = SelectField("公开方式", validators=[Optional()])
    contact_person = StringField("联系人", validators=[Optional(), Length(max=40)])
    contact_phone = StringField("联系电话", validators=[Optional(), Length(max=60)])
