"""Forms of the commitment tracker; views pass the unit and vocabulary choices in."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from tracker.formutil import EventDateField, PlanDateField, TrackerForm, options
from tracker.formutil import FilterForm as ListFilterForm
from tracker.rules.labels import COMMITMENT_STATUS

DATE_MSG = "请输入有效日期（年-月-日）。"

FILTER_STATUSES = [
    ("", "全部（已确认）"),
    ("open", COMMITMENT_STATUS["open"]),
    ("in_progress", COMMITMENT_STATUS["in_progress"]),
    ("overdue", COMMITMENT_STATUS["overdue"]),
    ("done", COMMITMENT_STATUS["done"]),
    ("dropped", COMMITMENT_STATUS["dropped"]),
    ("candidate", COMMITMENT_STATUS["candidate"]),
    ("discarded", COMMITMENT_STATUS["discarded"]),
]


class FilterForm(ListFilterForm):
    """The commitment list's filters."""

    q = StringField("承诺内容", validators=[Optional(), Length(max=100)])
    unit = SelectField("责任单位", validate_choice=False)
    status = SelectField("状态", choices=options(FILTER_STATUSES), validate_choice=False)
    due_from = PlanDateField("期限自", validators=[Optional()], format="%Y-%m-%d")
    due_to = PlanDateField("期限至", validators=[Optional()], format="%Y-%m-%d")
    session = SelectField("会议", validate_choice=False)
    grade = SelectField("答复类别", default="")  # one of the classification codes
    overdue = BooleanField("仅看逾期")
    report = BooleanField("待向代表反馈")


class _Fields(TrackerForm):
    text = TextAreaField(
        "承诺内容", validators=[DataRequired("请填写承诺内容。"), Length(max=2000)]
    )
    due_on = PlanDateField(
        "承诺期限",
        validators=[Optional()],
        format="%Y-%m-%d",
        description="留空表示没有明确期限（如“逐步”“长期”）",
    )
    target = StringField(
        "量化目标", validators=[Optional(), Length(max=60)], description="如 80%、137公里、550所"
    )
    unit = SelectField("责任单位", coerce=int, validators=[InputRequired("请选择责任单位。")])


class ConfirmForm(_Fields):
    pass


class EditForm(_Fields):
    reason = StringField(
        "修改理由",
        validators=[Optional(), Length(max=300)],
        description="修改已确认承诺的期限时必填",
    )


class UpdateForm(TrackerForm):
    noted_on = EventDateField("日期", format="%Y-%m-%d", validators=[InputRequired(DATE_MSG)])
    note = TextAreaField(
        "进展情况", validators=[DataRequired("请填写进展情况。"), Length(max=5000)]
    )
    evidence_url = StringField(
        "佐证链接", validators=[Optional(), Length(max=500)], description="http:// 或 https:// 开头"
    )
    evidence = FileField("佐证文件", description="PDF、OFD、Word、WPS、Excel、图片、文本或压缩包")


class StatusForm(TrackerForm):
    status = SelectField("改为", validate_choice=False)
    done_on = EventDateField(
        "完成日期", validators=[Optional()], format="%Y-%m-%d", description="改为已完成时填写"
    )
    reason = TextAreaField(
        "原因或说明",
        validators=[Optional(), Length(max=2000)],
        description="无法落实、重新推进时必填",
    )


class ReportForm(TrackerForm):
    reported_on = EventDateField(
        "反馈日期", format="%Y-%m-%d", validators=[InputRequired(DATE_MSG)]
    )
    channel = SelectField("方式")
    note = TextAreaField(
        "反馈内容", validators=[DataRequired("请填写反馈内容。"), Length(max=2000)]
    )


class BulkForm(TrackerForm):
    """Confirm, merge or discard the ticked candidates (ids come as repeated `ids`)."""

    action = SelectField(
        "操作",
        choices=options([("confirm", "确认所选"), ("merge", "合并所选"), ("discard", "舍弃所选")]),
    )
