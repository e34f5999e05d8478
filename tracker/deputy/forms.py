"""The deputy's forms: answering a logged contact, and rating a reply online."""

from __future__ import annotations

from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from tracker.formutil import TrackerForm, options

CHOICE_MESSAGES = {
    "invalid_choice_message": "请选择有效的选项。",
    "invalid_value_message": "请选择有效的选项。",
}


class ContactAnswerForm(TrackerForm):
    status = RadioField(
        "这次沟通",
        choices=options([("confirmed", "属实，确认"), ("disputed", "有异议")]),
        validators=[InputRequired("请选择确认或有异议。")],
        **CHOICE_MESSAGES,
    )
    comment = TextAreaField(
        "说明",
        validators=[Optional(), Length(max=2000)],
        description="有异议时必填，例如：当天没有与我联系",
    )


class DeputyRatingForm(TrackerForm):
    """办理态度 and 办理结果 (满意/基本满意/不满意), how the unit contacted the deputy,
    and a comment (required for 不满意: the service says so). The views pass the
    vocabularies' choices in."""

    attitude = RadioField(
        "对办理态度", validators=[InputRequired("请评价办理态度。")], **CHOICE_MESSAGES
    )
    satisfaction = RadioField(
        "对办理结果", validators=[InputRequired("请评价办理结果。")], **CHOICE_MESSAGES
    )
    contact_method = RadioField(
        "承办单位与您联系的方式",
        validators=[InputRequired("请选择承办单位与您联系的方式。")],
        **CHOICE_MESSAGES,
    )
    comment = TextAreaField(
        "意见和建议",
        validators=[Optional(), Length(max=5000)],
        description="选择“不满意”时必填：写明不满意的理由，承办单位将重新办理",
    )
