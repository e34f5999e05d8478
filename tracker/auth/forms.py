from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from tracker.formutil import TrackerForm


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
