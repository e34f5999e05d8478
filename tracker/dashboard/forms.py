"""The dashboard's filter form (GET, no CSRF): a period and a unit."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional

DATE_MSG = "请输入有效日期（年-月-日）。"


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    # the query string says from=…&to=…; "from" is a Python keyword, hence name=
    date_from = DateField(
        "开始日期",
        name="from",
        validators=[Optional()],
        format="%Y-%m-%d",
        invalid_value_message=DATE_MSG,
    )
    date_to = DateField(
        "结束日期",
        name="to",
        validators=[Optional()],
        format="%Y-%m-%d",
        invalid_value_message=DATE_MSG,
    )
    unit = SelectField("单位", coerce=str, validate_choice=False, validators=[Optional()])
