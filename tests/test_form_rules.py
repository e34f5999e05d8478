"""The rules every form of the tracker follows, checked on every form class there is (a new
form is checked without being listed here): text fields drop control characters and have a
maximum length; date fields take only plausible days. Then the same rules through real
forms in the browser."""

from __future__ import annotations

import inspect
import re
import unicodedata

import pytest
from conftest import TODAY
from flask_wtf import FlaskForm
from test_drafting import _filled, _form, _letter, _start, proposal  # noqa: F401 (fixture)
from werkzeug.datastructures import MultiDict
from wtforms import (
    DateField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length
from wtforms.widgets import Select

from tracker.extensions import db
from tracker.formutil import FastSelect
from tracker.models import AuditEvent, Proposal

CHINESE = re.compile(r"[\u4e00-\u9fff]")
DIRTY = "甲\x00乙\x1b\x7f丙\x85丁\r\n戊\t己\x08"


def _form_classes() -> list[type[FlaskForm]]:
    found, todo = [], list(FlaskForm.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("tracker."):
            found.append(cls)
    return sorted(set(found), key=lambda c: (c.__module__, c.__qualname__))


def _bind(cls: type[FlaskForm], data: dict) -> FlaskForm:
    """The form as a view binds it, given what was posted (without a CSRF token)."""
    required = {
        name: 1
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if p.kind is p.KEYWORD_ONLY and p.default is p.empty
    }
    return cls(formdata=MultiDict(data), meta={"csrf": False}, **required)


def _fields(app, kind) -> list[tuple[type[FlaskForm], str, str]]:
    """(form class, field key, name posted) of every field of this kind in every form."""
    with app.test_request_context():
        return [
            (cls, key, field.name)
            for cls in _form_classes()
            for key, field in _bind(cls, {})._fields.items()
            if isinstance(field, kind)
        ]


def _controls(text: str) -> list[str]:
    return [hex(ord(ch)) for ch in text if unicodedata.category(ch) == "Cc"]


def test_every_form_of_the_tracker_is_found(app):
    names = {cls.__qualname__ for cls in _form_classes()}
    # a sample from every feature: the enumeration below sees them all
    assert {"LoginForm", "UserCreateForm", "ProposalForm", "DraftForm", "UpdateForm"} <= names
    assert {"ReviewForm", "ImportForm", "FilterForm", "CalendarForm", "SubmitForm"} <= names


def test_every_select_renders_as_wtforms_would_and_uses_the_fast_widget(app):
    """formutil.FastSelect writes the options itself (the filters list hundreds of units
    and sessions): the HTML is WTForms' own, for awkward values and labels too."""
    tricky = [
        ("", "全部"),
        ('a&"b<c>', "甲&乙<丙>\"'"),
        (True, "是"),
        ("7", ""),
        ("x", "选中的"),
    ]
    selects = _fields(app, SelectField)
    assert len(selects) >= 10
    checked = 0  # multiple selects
    with app.test_request_context():
        for cls, key, _name in selects:
            field = _bind(cls, {})._fields[key]
            if not isinstance(type(field).widget, Select):
                continue  # radio buttons: WTForms' own widget
            multiple = type(field).widget.multiple
            assert isinstance(field.widget, FastSelect), (cls, key)
            assert field.widget.multiple == multiple, (cls, key)
            field.coerce, field.choices = str, tricky  # rendering only
            field.data = ["x", "7"] if multiple else "x"
            plain = Select(multiple=multiple)
            assert field() == plain(field), (cls, key)
            assert field(class_="wide") == plain(field, class_="wide"), (cls, key)
            checked += multiple
    assert checked >= 2  # the assignment's lead and co-handling units


def test_every_text_field_drops_control_characters(app):
    failures = []
    for cls, key, name in _fields(app, StringField):
        with app.test_request_context():
            field = _bind(cls, {name: DIRTY})[key]
            if isinstance(field, PasswordField):
                continue  # compared with the stored hash, never shown or logged: as typed
            values = field.data if isinstance(field.data, list) else [field.data]
            text = "".join(values)
            allowed = {"\n", "\t"} if isinstance(field, TextAreaField) else set()
            left = [c for c in _controls(text) if chr(int(c, 16)) not in allowed]
            if left or "甲乙丙" not in text:
                failures.append(f"{cls.__module__}.{cls.__qualname__}.{name}: {text!r}")
    assert failures == []


def test_every_text_field_has_a_maximum_length_with_a_chinese_message(app):
    failures = []
    for cls, key, name in _fields(app, StringField):
        with app.test_request_context():
            form = _bind(cls, {name: "字" * 100_001})
            field = form[key]
            has_max = any(isinstance(v, Length) and v.max > 0 for v in field.validators)
            field.validate(form)
            if not has_max or not any(CHINESE.search(e) for e in field.errors):
                failures.append(f"{cls.__module__}.{cls.__qualname__}.{name}: {field.errors}")
    assert failures == []


@pytest.mark.parametrize("far", ["0001-01-01", "1989-12-31", "9999-12-31"])
def test_every_date_field_refuses_days_no_office_could_mean(app, far):
    failures = []
    for cls, key, name in _fields(app, DateField):
        with app.test_request_context():
            form = _bind(cls, {name: far})
            field = form[key]
            field.validate(form)
            if not any(CHINESE.search(e) and "日" in e for e in field.errors):
                failures.append(f"{cls.__module__}.{cls.__qualname__}.{name}: {field.errors}")
    assert failures == []


def test_every_date_field_takes_today(app):
    for cls, key, name in _fields(app, DateField):
        with app.test_request_context():
            form = _bind(cls, {name: TODAY.isoformat()})
            form[key].validate(form)
            assert form[key].errors == [], (cls, name)


# -- through real forms ------------------------------------------------------------------


def proposal_form(**changes) -> dict:
    """What the registration form posts for 20222174 of 曾志伟, with some fields changed."""
    return {
        "session_id": "0",
        "new_session": "市十六届人大一次会议",
        "new_session_year": "2026",
        "kind": "建议",
        "number": "20222174",
        "title": "关于进一步加强广州市中小学生心理健康管理工作的建议",
        "lead_proposer": "曾志伟",
        "proposer_kind": "代表",
        **changes,
    }


def test_a_registered_proposal_keeps_no_control_characters(app, browser, people):
    browser.login("liaison")
    response = browser.post(
        "/proposals/new",
        proposal_form(
            new_session="市十六届人大一次会议\x00",
            number="2022\n2174",
            title="关于进一步加强\x1b[31m中小学生心理健康\x00管理工作的建议",
            lead_proposer="曾志伟\r",
            co_signers="王小明\x07、李华",
            content="第一段\r\n第二段\x0c",
        ),
    )
    assert response.status_code == 302
    with app.app_context():
        p = db.session.execute(db.select(Proposal)).scalar_one()
        assert p.number == "20222174"
        assert p.title == "关于进一步加强[31m中小学生心理健康管理工作的建议"
        assert p.lead_proposer == "曾志伟"
        assert p.co_signers == ["王小明", "李华"]
        assert p.session.name == "市十六届人大一次会议"
        assert p.content == "第一段\n第二段"


def test_a_number_typed_in_full_width_is_the_same_number(app, browser, people):
    """An input method's full-width digits (２０２２２１７４), or 第…号 around the number, are
    the number itself: stored as 20222174, so it cannot be registered twice in a session
    (the letters that answer it look for 20222174)."""
    browser.login("liaison")
    response = browser.post("/proposals/new", proposal_form(number="２０２２２１７４"))
    assert response.status_code == 302
    with app.app_context():
        first = db.session.execute(db.select(Proposal)).scalar_one()
        assert first.number == "20222174"
        session_id = first.session_id
    again = browser.post(
        "/proposals/new",
        proposal_form(
            session_id=str(session_id),
            new_session="",
            new_session_year="",
            number="第20222174号",
            title="关于中小学心理健康教育的建议",
        ),
    )
    assert "市十六届人大一次会议已有第20222174号建议，编号不能重复。" in again.get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Proposal.id))).scalar() == 1


def test_an_over_long_sign_off_reason_is_refused_with_a_message(app, browser, proposal):  # noqa: F811
    app.config["CO_SIGN_REQUIRED"] = False  # submitting goes straight to sign-off
    browser.login("clerk")
    letter_id = _start(browser, proposal)
    letter = _letter(app, letter_id)
    browser.post(
        f"/letters/{letter_id}/edit",
        _form(letter, body=_filled(letter.body), classification="B", letter_on="2026-06-10"),
    )
    reasons = {"reason-cc": "会办单位同意不抄送", "reason-due": "经督办同意延后" * 20_000}
    response = browser.post(f"/letters/{letter_id}/submit", reasons, follow_redirects=True)
    assert "的说明不能超过500个字。" in response.get_data(as_text=True)
    assert _letter(app, letter_id).status == "draft"
    with app.app_context():
        assert (
            db.session.execute(db.select(AuditEvent).filter_by(action="letter_submit")).first()
            is None
        )
    # a reason's control characters are dropped; a reason within the limit is taken
    reasons["reason-due"] = "经督办\x00同意延后"
    browser.post(f"/letters/{letter_id}/submit", reasons)
    assert _letter(app, letter_id).status == "submitted"
    with app.app_context():
        event = db.session.execute(
            db.select(AuditEvent).filter_by(action="letter_submit")
        ).scalar_one()
        assert event.data["overrides"]["due"] == "经督办同意延后"
