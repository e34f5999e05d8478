"""Admin forms: they validate shape; the views pass database-backed choices in and the
services (tracker.services.admin) apply the rules.

Edit forms are filled from the record, so required fields use InputRequired (which looks
at what was posted): a POST that leaves a field out is refused instead of silently keeping
the old value."""

from __future__ import annotations

import re

from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from tracker.formutil import EachLength, TrackerForm, options
from tracker.rules.deadlines import POLICY_LABELS_ZH, Period
from tracker.rules.labels import ROLES
from tracker.services.admin import CLASSIFICATION_SCHEMES, LINE_EXAMPLE
from tracker.services.users import MIN_PASSWORD

NAME_SEPARATORS = re.compile(r"[,，、;；\s]+")
EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
CHOICE_MESSAGES = {
    "invalid_choice_message": "请选择有效的选项。",
    "invalid_value_message": "请选择有效的选项。",
}


def split_names(text: str | None) -> list[str]:
    """ "市教育局、教育局, 教育" -> ["市教育局", "教育局", "教育"] (commas, 、, ; or spaces)."""
    names: list[str] = []
    for name in NAME_SEPARATORS.split(text or ""):
        if name and name not in names:
            names.append(name)
    return names


class NameListField(StringField):
    """A list of names typed on one line; the data is a list, shown joined with 、. At most
    `count` names of at most `max_length` characters each."""

    def __init__(self, label=None, validators=None, *, max_length=40, count=20, **kwargs):
        validators = [*(validators or []), EachLength(max_length, count)]
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = split_names(valuelist[0])

    def _value(self) -> str:
        return "、".join(self.data or [])


class PeriodText:
    """A period the deadline rules can read: 3个月, 3 months, 5个工作日, 30天."""

    def __call__(self, form, field) -> None:
        try:
            Period.parse(field.data or "")
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def _password_field(label: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired("请填写密码。"),
            Length(min=MIN_PASSWORD, max=200, message=f"密码至少{MIN_PASSWORD}位。"),
        ],
        description=f"至少{MIN_PASSWORD}位；请告知用户登录后自行修改",
    )


def _email_field() -> StringField:
    return StringField(
        "电子邮箱",
        validators=[Optional(), Length(max=120), Regexp(EMAIL_RE, message="电子邮箱格式不正确。")],
    )


def _deputy_name_field() -> StringField:
    return StringField(
        "代表/委员署名",
        validators=[Optional(), Length(max=120)],
        description="角色为代表/委员时填写：建议、提案上领衔人或附议人的姓名，如“曾志伟”",
    )


def _phone_field() -> StringField:
    return StringField(
        "手机",
        validators=[
            Optional(),
            Length(max=40),
            Regexp(r"^[0-9+\- ]+$", message="手机号码格式不正确。"),
        ],
        description="配置短信网关后，提醒和答复通知会发到这个号码",
    )


# -- users ------------------------------------------------------------------------------


class UserEditForm(TrackerForm):
    display_name = StringField("姓名", validators=[Optional(), Length(max=64)])
    role = SelectField(
        "角色",
        choices=options(ROLES.items()),
        validators=[InputRequired("请选择角色。")],
        **CHOICE_MESSAGES,
    )
    unit_id = SelectField(
        "单位", coerce=int, description="承办人和负责人须选择单位", **CHOICE_MESSAGES
    )
    deputy_name = _deputy_name_field()
    email = _email_field()
    phone = _phone_field()
    active = BooleanField("启用（停用后不能登录）", default=True)


class UserCreateForm(TrackerForm):
    username = StringField(
        "用户名",
        validators=[DataRequired("请填写用户名。"), Length(max=64)],
        description="登录用：字母、数字、下划线、点或连字符，保存后不能修改",
    )
    display_name = StringField("姓名", validators=[Optional(), Length(max=64)])
    role = SelectField("角色", choices=options(ROLES.items()), **CHOICE_MESSAGES)
    unit_id = SelectField(
        "单位", coerce=int, description="承办人和负责人须选择单位", **CHOICE_MESSAGES
    )
    deputy_name = _deputy_name_field()
    email = _email_field()
    phone = _phone_field()
    password = _password_field("初始密码")


class PasswordResetForm(TrackerForm):
    password = _password_field("新密码")
    confirm = PasswordField(
        "确认新密码",
        validators=[EqualTo("password", "两次输入的密码不一致。"), Length(max=200)],
    )


# -- units ------------------------------------------------------------------------------


class UnitForm(TrackerForm):
    name = StringField(
        "单位全称",
        validators=[InputRequired("请填写单位全称。"), Length(max=120)],
        description="如：广州市教育局",
    )
    short_names = NameListField(
        "简称",
        description="多个简称用逗号或顿号分隔，如：市教育局、教育局；用于识别答复函、抄送中的单位",
    )
    doc_prefix = StringField(
        "文号前缀（机关代字）",
        validators=[Optional(), Length(max=40)],
        description="如：穗教案（文号形如 穗教案〔2022〕119号）",
    )
    is_coordinating = BooleanField("督办/交办部门（如市府办公厅）")
    active = BooleanField("启用（停用后不再出现在交办单位中）", default=True)


# -- vocabularies -----------------------------------------------------------------------


class TermForm(TrackerForm):
    label = StringField("名称", validators=[InputRequired("请填写名称。"), Length(max=60)])
    description = TextAreaField("定义/说明", validators=[Optional(), Length(max=2000)])
    aliases = NameListField(
        "别名", description="答复函中可能出现的其他写法，用逗号或顿号分隔，如：甲类、一类"
    )
    sort_order = IntegerField(
        "排序",
        default=0,
        validators=[InputRequired("请填写排序号。"), NumberRange(-9999, 9999, "排序号无效。")],
        description="数字小的排在前面",
    )
    active = BooleanField("启用（停用后不再供选择，已有数据不受影响）", default=True)
    flag = BooleanField("标记")  # the view names it after the vocabulary or removes it


class NewTermForm(TermForm):
    scheme = SelectField(
        "类别体系", choices=options(CLASSIFICATION_SCHEMES.items()), **CHOICE_MESSAGES
    )
    code = StringField(
        "代码",
        validators=[
            DataRequired("请填写代码。"),
            Length(max=24),
            Regexp(r"^\S+$", message="代码不能包含空格。"),
        ],
        description="数据中保存的代码，如 A、B、解决采纳；保存后不能修改",
    )


class SchemeForm(TrackerForm):
    scheme = RadioField(
        "使用的答复类别体系",
        choices=options(CLASSIFICATION_SCHEMES.items()),
        validators=[InputRequired("请选择类别体系。")],
        **CHOICE_MESSAGES,
    )


# -- settings ---------------------------------------------------------------------------

PERIOD_HINT = "如：3个月、3 months、5个工作日、30天"
PERIOD_KEYS = ("reply", "reply_max", "co_opinion", "reassignment_window", "re_answer", "co_sign")
BOOL_KEYS = ("roll_forward", "co_sign_required")


def _period_field(key: str) -> StringField:
    return StringField(
        POLICY_LABELS_ZH[key],
        validators=[InputRequired("请填写期限。"), PeriodText(), Length(max=40)],
        description=PERIOD_HINT,
    )


class PolicyForm(TrackerForm):
    reply = _period_field("reply")
    reply_max = _period_field("reply_max")
    co_opinion = _period_field("co_opinion")
    reassignment_window = _period_field("reassignment_window")
    re_answer = _period_field("re_answer")
    roll_forward = BooleanField(POLICY_LABELS_ZH["roll_forward"])
    co_sign_required = BooleanField(
        POLICY_LABELS_ZH["co_sign_required"],
        description="不勾选则只收集会办意见：主办单位提交后直接送负责人签发",
    )
    co_sign = _period_field("co_sign")


# -- calendar ---------------------------------------------------------------------------


class CalendarForm(TrackerForm):
    lines = TextAreaField(
        "录入放假日和调休上班日",
        validators=[DataRequired("请至少填写一行。"), Length(max=20000)],
        description=f"每行一条：{LINE_EXAMPLE}。“休”也可写作“假”，“班”也可写作“上班”；"
        "日期后可加备注。已录入的日期会被覆盖。",
    )


class ButtonForm(TrackerForm):
    """A button-only action (delete): the form carries nothing but its CSRF token."""
