"""Forms validate shape; views pass database-backed choices in."""

from __future__ import annotations

from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from tracker.formutil import EventDateField, PlanDateField, TrackerForm, filter_options, options
from tracker.formutil import FilterForm as ListFilterForm
from tracker.rules.labels import CONTACT_PHASES, PROPOSAL_KINDS

DATE_MSG = "请输入有效日期（年-月-日）。"


class ProposalForm(TrackerForm):
    session_id = SelectField("会议", coerce=int, validators=[InputRequired("请选择会议。")])
    new_session = StringField(
        "或新增会议",
        validators=[Optional(), Length(max=80)],
        description="如：市十六届人大一次会议；选择已有会议时留空",
    )
    new_session_year = IntegerField(
        "新会议年份", validators=[Optional(), NumberRange(1949, 2100, "年份无效。")]
    )
    kind = SelectField("类别", choices=options([(k, k) for k in PROPOSAL_KINDS]))
    number = StringField(
        "编号",
        validators=[DataRequired("请填写编号。"), Length(max=32)],
        description="如 20222174、53-3、D022",
    )
    title = StringField(
        "标题",
        validators=[DataRequired("请填写标题。"), Length(max=300)],
        description="如：关于进一步加强广州市中小学生心理健康管理工作的建议",
    )
    lead_proposer = StringField(
        "领衔人", validators=[DataRequired("请填写领衔代表或委员。"), Length(max=120)]
    )
    proposer_kind = SelectField(
        "身份", choices=options([("代表", "代表"), ("委员", "委员"), ("单位", "党派团体/委员小组")])
    )
    co_signers = StringField(
        "联名/附议", validators=[Optional(), Length(max=1000)], description="多人用顿号或逗号分隔"
    )
    submitted_on = EventDateField("提出日期", validators=[Optional()], format="%Y-%m-%d")
    is_key = BooleanField("重点建议/重点督办")
    content = TextAreaField("内容摘要", validators=[Optional(), Length(max=20000)])


class ProposalEditForm(TrackerForm):
    """更正登记信息: the registration's number, title and dates put right."""

    number = StringField(
        "编号",
        validators=[DataRequired("请填写编号。"), Length(max=32)],
        description="同一会议内不能重复",
    )
    title = StringField("标题", validators=[DataRequired("请填写标题。"), Length(max=300)])
    submitted_on = EventDateField("提出日期", validators=[Optional()], format="%Y-%m-%d")
    assigned_on = EventDateField(
        "交办日期",
        validators=[InputRequired(DATE_MSG)],
        format="%Y-%m-%d",
        description="更正后，首次交办的各单位答复期限、会办意见期限和申请调整期限将重新计算",
    )
    reason = StringField(
        "更正说明", validators=[Optional(), Length(max=500)], description="如：登记时误填年份"
    )


class AssignForm(TrackerForm):
    mode = RadioField(
        "交办方式",
        choices=options([("lead", "主办 + 会办"), ("separate", "分别办理（分办）")]),
        default="lead",
    )
    lead_units = SelectMultipleField(
        "主办单位（分办时可多选）", coerce=int, validators=[DataRequired("请选择主办单位。")]
    )
    co_units = SelectMultipleField("会办单位", coerce=int, validators=[Optional()])
    assigned_on = EventDateField(
        "交办日期", validators=[InputRequired(DATE_MSG)], format="%Y-%m-%d"
    )


class ReassignRequestForm(TrackerForm):
    reason = TextAreaField(
        "申请调整理由", validators=[DataRequired("请说明申请调整的理由。"), Length(max=2000)]
    )
    suggested_unit = StringField("建议承办单位", validators=[Optional(), Length(max=120)])


class ReassignDecisionForm(TrackerForm):
    decision = RadioField(
        "决定",
        choices=options([("approve", "同意调整"), ("refuse", "不同意，仍由原单位办理")]),
        validators=[InputRequired("请选择是否同意。")],
    )
    new_unit = SelectField("改由单位", coerce=int, validators=[Optional()])
    note = TextAreaField("说明", validators=[Optional(), Length(max=2000)])


class ContactForm(TrackerForm):
    contacted_on = EventDateField(
        "沟通日期", validators=[InputRequired(DATE_MSG)], format="%Y-%m-%d"
    )
    channel = SelectField("方式", validators=[InputRequired("请选择沟通方式。")])
    phase = SelectField("阶段", choices=options(list(CONTACT_PHASES.items())))
    participants = StringField("参加人员", validators=[Optional(), Length(max=300)])
    summary = TextAreaField(
        "沟通情况", validators=[DataRequired("请简要记录沟通内容。"), Length(max=5000)]
    )


class OpinionForm(TrackerForm):
    opinion_on = EventDateField("意见日期", validators=[InputRequired(DATE_MSG)], format="%Y-%m-%d")
    text = TextAreaField(
        "会办意见", validators=[DataRequired("请填写会办意见。"), Length(max=20000)]
    )


class ReplyForm(TrackerForm):
    title = StringField(
        "答复函标题", validators=[DataRequired("请填写答复函标题。"), Length(max=300)]
    )
    classification = SelectField("答复类别", validators=[InputRequired("请选择答复类别。")])
    doc_number = StringField(
        "文号", validators=[Optional(), Length(max=80)], description="如 穗教案〔2022〕119号"
    )
    letter_on = EventDateField("成文日期", validators=[InputRequired(DATE_MSG)], format="%Y-%m-%d")
    issued_on = EventDateField("发出日期", validators=[Optional()], format="%Y-%m-%d")
    disclosure = SelectField("公开方式", validators=[InputRequired("请选择公开方式。")])
    disclosure_reason = StringField("不公开理由", validators=[Optional(), Length(max=500)])
    body = TextAreaField("答复正文", validators=[Optional(), Length(max=100000)])


class RatingForm(TrackerForm):
    """The deputy's paper form, entered by a liaison on their behalf (代填)."""

    satisfaction = SelectField("满意度（办理结果）", validators=[InputRequired("请选择满意度。")])
    attitude = SelectField("办理态度", validators=[Optional()])
    contact_method = SelectField("承办单位联系代表的方式", validators=[Optional()])
    rated_on = EventDateField("评价日期", validators=[InputRequired(DATE_MSG)], format="%Y-%m-%d")
    comment = TextAreaField("代表意见", validators=[Optional(), Length(max=5000)])


class ExtensionForm(TrackerForm):
    requested_due_on = PlanDateField(
        "申请延期至", validators=[InputRequired(DATE_MSG)], format="%Y-%m-%d"
    )
    reason = TextAreaField(
        "延期理由", validators=[DataRequired("请说明延期理由。"), Length(max=2000)]
    )


class DecisionForm(TrackerForm):
    decision = RadioField(
        "审批",
        choices=options([("grant", "批准"), ("refuse", "不批准")]),
        validators=[InputRequired("请选择是否批准。")],
    )
    note = TextAreaField("意见", validators=[Optional(), Length(max=2000)])


class ButtonForm(TrackerForm):
    """A button-only action (sign for): the form carries nothing but its CSRF token."""


class FilterForm(ListFilterForm):
    """The proposal list's filters."""

    q = StringField("标题关键词", validators=[Optional(), Length(max=100)])
    session = SelectField("会议", coerce=str, validators=[Optional()])
    kind = SelectField(
        "类别",
        choices=filter_options((k, k) for k in PROPOSAL_KINDS),
        validators=[Optional()],
    )
    status = SelectField("状态", validators=[Optional()])
    unit = SelectField("承办单位", coerce=str, validators=[Optional()])
    classification = SelectField("答复类别", validators=[Optional()])
    overdue = BooleanField("仅看逾期")


class BatchUploadForm(TrackerForm):
    """批量导入: the 交办清单 file and the defaults for rows that leave them out."""

    file = FileField(
        "交办清单文件",
        validators=[
            FileRequired("请选择要导入的文件。"),
            FileAllowed(
                ["xlsx", "csv"], "请上传 .xlsx 或 .csv 文件（旧版 .xls 请先另存为 .xlsx）。"
            ),
        ],
        description="Excel（.xlsx）或 CSV（UTF-8 或 GB18030 编码）",
        render_kw={"accept": ".xlsx,.csv"},
    )
    session_id = SelectField("会议", coerce=int, validators=[Optional()])
    new_session = StringField(
        "或新会议名称",
        validators=[Optional(), Length(max=80)],
        description="文件中没有“届次”列（或该列为空）的行归入此会议",
    )
    assign_on = EventDateField(
        "交办日期",
        validators=[Optional()],
        format="%Y-%m-%d",
        description="文件中填了承办单位但没有交办日期的行按此日期交办",
    )
