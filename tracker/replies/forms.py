from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from tracker.formutil import options
from tracker.rules.labels import PROPOSAL_KINDS


class ReviewForm(FlaskForm):
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
    letter_on = DateField("成文日期", validators=[Optional()])
    doc_number = StringField("文号", validators=[Optional(), Length(max=60)])
    classification = SelectField("答复类别", validators=[Optional()])
    disclosure = SelectField("公开方式", validators=[Optional()])
    contact_person = StringField("联系人", validators=[Optional(), Length(max=40)])
    contact_phone = StringField("联系电话", validators=[Optional(), Length(max=60)])

    def validate_letter_on(self, field) -> None:
        if field.data and not (field.data.year >= 1949 and field.data <= date.today()):
            raise ValidationError("成文日期应在1949年之后且不晚于今天。")
