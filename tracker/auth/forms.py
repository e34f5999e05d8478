from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from tracker.formutil import PlanDateField, TrackerForm


class LoginForm(TrackerForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名。"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码。"), Length(max=200)])
    remember = BooleanField("记住我")
    next = HiddenField(validators=[Length(max=4096)])  # a URL: gunicorn takes 4094


class PasswordForm(TrackerForm):
    current = PasswordField(
        "当前密码", validators=[DataRequired("请输入当前密码。"), Length(max=200)]
    )
    new = PasswordField(
        "新密码",
        validators=[
            DataRequired("请输入新密码。"),
            Length(min=8, message="新密码至少8位。"),
            Length(max=200),
        ],
    )
    confirm = PasswordField(
        "确认新密码",
        validators=[EqualTo("new", "两次输入的新密码不一致。"), Length(max=200)],
    )


class TokenForm(TrackerForm):
    """A new personal API token: what it is for, and how long it lasts."""

    name = StringField(
        "用途",
        validators=[DataRequired("请填写令牌用途。"), Length(max=60)],
        description="如：人大代表建议系统对接",
    )
    expires_on = PlanDateField(
        "有效期至", validators=[Optional()], description="含当天；留空则一直有效，直到撤销"
    )
