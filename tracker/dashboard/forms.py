"""The dashboard's filter form (GET, no CSRF): a period and a unit."""

from __future__ import annotations

from wtforms import SelectField
from wtforms.validators import Optional

from tracker.formutil import PlanDateField, TrackerForm

DATE_MSG = "请输入有效日期（年-月-日）。"


class FilterForm(TrackerForm):
    class Meta:
        csrf = False

    # the query string says from=…&to=…; "from" is a Python keyword, hence name=
    date_from = PlanDateField(
        "开始日期",
        name="from",
        validators=[Optional()],
        format="%Y-%m-%d",
        invalid_value_message=DATE_MSG,
    )
    date_to = PlanDateField(
        "结束日期",
        name="to",
        validators=[Optional()],
        format="%Y-%m-%d",
        invalid_value_message=DATE_MSG,
    )
    unit = SelectField("单位", coerce=str, validate_choice=False, validators=[Optional()])
