"""The assessment scheme's editor (admin) and the year picker of the 考评 page."""

from __future__ import annotations

import math

from wtforms import (
    BooleanField,
    FieldList,
    FloatField,
    FormField,
    HiddenField,
    IntegerField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from tracker.formutil import TrackerForm


def finite(_form, field) -> None:
    if field.data is not None and not math.isfinite(field.data):
        raise ValidationError("请填写有效的数字。")


class ItemForm(TrackerForm):
    """One kind of item: whether the scheme scores it, its label and weight."""

    class Meta:
        csrf = False  # part of the scheme form, which has the token

    kind = HiddenField(validators=[Length(max=40)])
    used = BooleanField("计分")
    label = StringField("项目名称", validators=[Optional(), Length(max=40)])
    points = FloatField("分值", validators=[Optional(), finite, NumberRange(min=0, max=1000)])
    cap = FloatField("扣分上限", validators=[Optional(), finite, NumberRange(min=0, max=1000)])


class SchemeForm(TrackerForm):
    name = StringField("方案名称", validators=[DataRequired(), Length(max=120)])
    source = TextAreaField("依据", validators=[Optional(), Length(max=2000)])
    in_person_channels = StringField(
        "面复（当面沟通）的联系方式", validators=[Optional(), Length(max=200)]
    )
    items = FieldList(FormField(ItemForm))


class YearForm(TrackerForm):
    class Meta:
        csrf = False

    year = IntegerField("年度", validators=[Optional(), NumberRange(min=1990, max=2100)])
