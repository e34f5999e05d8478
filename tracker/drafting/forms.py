from __future__ import annotations

from collections.abc import Iterable

from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from tracker.formutil import EventDateField, TrackerForm, options

DATE_MSG = "请输入有效日期（年-月-日）。"


class DraftForm(TrackerForm):
    title = StringField("标题", validators=[DataRequired("请填写标题。"), Length(max=300)])
    addressee = StringField(
        "称谓", validators=[DataRequired("请填写称谓，如：曾志伟代表："), Length(max=200)]
    )
    body = TextAreaField("正文（Markdown）", validators=[Optional(), Length(max=100000)])
    classification = SelectField("答复类别", validators=[Optional()])
    doc_number = StringField(
        "文号",
        validators=[Optional(), Length(max=80)],
        description="留空则签发时自动编号；手工填写须符合“穗教案〔2022〕119号”格式",
    )
    letter_on = EventDateField(
        "成文日期",
        validators=[Optional()],
        format="%Y-%m-%d",
        description="留空则以签发日期为成文日期",
    )
    contact_person = StringField("联系人", validators=[Optional(), Length(max=60)])
    contact_phone = StringField("联系电话", validators=[Optional(), Length(max=60)])
    disclosure = SelectField("公开方式", validators=[Optional()])
    disclosure_reason = StringField("不公开理由", validators=[Optional(), Length(max=500)])
    cc = StringField(
        "抄送", validators=[Optional(), Length(max=1000)], description="多个单位用顿号分隔"
    )
    comment = StringField("修改说明", validators=[Optional(), Length(max=300)])
    base_version = HiddenField(validators=[Length(max=20)])


class SubmitForm(TrackerForm):
    """Submit for sign-off; with_reasons() adds a reason field (reason-<code>) for each of
    the checklist's warnings, so that reasons follow the text rule of every form."""

    @classmethod
    def with_reasons(cls, warnings: Iterable[tuple[str, str]]) -> type[SubmitForm]:
        """The form for these (code, label) warnings."""
        fields = {
            f"reason-{code}": TextAreaField(
                f"说明：{label}",
                validators=[
                    Length(max=500, message=f"“{label}”的说明不能超过500个字。".replace("%", "%%"))
                ],
            )
            for code, label in warnings
        }
        return type("SubmitForm", (cls,), fields)

    def reasons(self) -> dict[str, str]:
        return {
            field.name.removeprefix("reason-"): field.data or ""
            for field in self
            if field.name.startswith("reason-")
        }


class ApproveForm(TrackerForm):
    classification = SelectField("答复类别（可更正）", validators=[Optional()])
    letter_on = EventDateField("成文日期", validators=[Optional()], format="%Y-%m-%d")


class ReturnForm(TrackerForm):
    comment = TextAreaField(
        "修改意见", validators=[DataRequired("退回时请写明修改意见。"), Length(max=2000)]
    )
    classification = SelectField("答复类别（可更正）", validators=[Optional()])


class IssueForm(TrackerForm):
    issued_on = EventDateField("发出日期", validators=[InputRequired(DATE_MSG)], format="%Y-%m-%d")


class DisclosureForm(TrackerForm):
    disclosure = SelectField("公开方式", validators=[InputRequired("请选择公开方式。")])
    reason = StringField("理由", validators=[Optional(), Length(max=500)])


class CoSignForm(TrackerForm):
    """A co-unit's 会签: agree, or return with comments (the page's two buttons post
    ``decision``)."""

    decision = RadioField(
        "会签意见",
        choices=options([("agree", "同意"), ("return", "退回修改")]),
        validators=[InputRequired("请选择同意或退回修改。")],
    )
    comment = TextAreaField(
        "意见",
        validators=[Optional(), Length(max=2000)],
        description="退回时必填，写明需要修改之处；同意时可不填",
    )
