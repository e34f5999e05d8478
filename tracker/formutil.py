"""What every form shares: the base class with the one text rule, date fields that take only
plausible days, and small helpers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date

from flask import has_app_context
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import DateField, PasswordField, SelectChoice, StringField, TextAreaField
from wtforms.validators import Length, ValidationError
from wtforms.widgets import Select

from tracker.models import MAX_ID
from tracker.rules import dates

# C0 and C1 control characters and DEL, but for tab and newline; a lone carriage return
# (and the CR of CRLF, which browsers send in a textarea) is a line break
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"\r\n?")
_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean_text(value: str, *, multiline: bool = True) -> str:
    """Text as a person can have typed it: control characters dropped but for newline and
    tab, which a one-line field drops as well."""
    if multiline:
        return _CONTROLS.sub("", _LINE_BREAKS.sub("\n", value))
    return _ONE_LINE.sub("", value)


def _text_rule(multiline: bool) -> Callable:
    def rule(data):
        if isinstance(data, str):
            return clean_text(data, multiline=multiline)
        if isinstance(data, list):  # a NameListField's names
            return [clean_text(x, multiline=multiline) if isinstance(x, str) else x for x in data]
        return data

    return rule


_MULTILINE_RULE = _text_rule(True)
_ONE_LINE_RULE = _text_rule(False)


class FastSelect(Select):
    """WTForms' select, each plain option written at once: the HTML WTForms writes (its
    html_params puts `selected` before `value`), in a tenth of the time. The filters of the
    lists and the dashboard offer every unit and every session, hundreds of options: WTForms'
    own rendering was a third of such a page at 100,000 letters."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = choice.value
        if isinstance(value, bool):
            value = str(value)
        selected = "selected " if choice.selected else ""
        label = escape(choice.label or choice.value)
        return Markup(f'<option {selected}value="{escape(value)}">{label}</option>')


FAST_SELECT, FAST_MULTIPLE_SELECT = FastSelect(), FastSelect(multiple=True)


class _Messages:
    """WTForms' Chinese messages, but for a text over its length, which says how long the
    text is: "不能超过300个字（现有320个）。" """

    TOO_LONG = "不能超过%(max)d个字（现有%(length)d个）。"

    def __init__(self, translations):
        self.translations = translations

    def gettext(self, string):
        return self.translations.gettext(string)

    def ngettext(self, singular, plural, n):
        if singular.startswith("Field cannot be longer than"):
            return self.TOO_LONG
        return self.translations.ngettext(singular, plural, n)


class TrackerForm(FlaskForm):
    """The base of every form in the tracker. It applies the one text rule to every text
    field (StringField and its kinds: text areas, hidden fields, name lists): control
    characters are dropped as the form reads what was posted. Passwords are compared, never
    shown or logged, and are left as typed. That every text field also has a maximum length
    (a Length validator) is checked by the tests for every form. Selects, single and
    multiple, render with FastSelect."""

    class Meta:
        # WTForms' own messages ("Not a valid date value.") in Chinese: WTForms ships the
        # translation; Flask-WTF's Babel route is off (WTF_I18N_ENABLED = False in config)
        locales = ("zh",)

        def get_translations(self, form):
            return _Messages(super().get_translations(form))

        def bind_field(self, form, unbound_field, options):
            kind = unbound_field.field_class
            if issubclass(kind, StringField) and not issubclass(kind, PasswordField):
                rule = _MULTILINE_RULE if issubclass(kind, TextAreaField) else _ONE_LINE_RULE
                options["filters"] = (rule, *unbound_field.kwargs.get("filters", ()))
            widget = getattr(kind, "widget", None)
            if type(widget) is Select and "widget" not in unbound_field.kwargs:
                options["widget"] = FAST_MULTIPLE_SELECT if widget.multiple else FAST_SELECT
            return super().bind_field(form, unbound_field, options)


class FilterForm(TrackerForm):
    """A list's filters, read from the query string (a GET form: no CSRF token). Its fields
    have the same checks as any form's (lengths, date windows, choices), applied by
    `checked()` once the view has set the choices: a filter that fails them shows its
    message and filters nothing, so no query string reaches the database unchecked."""

    class Meta:
        csrf = False

    def checked(self) -> bool:
        ok = self.validate()
        for f in self:
            if f.errors:
                f.data = f.default
        return ok

    def query_args(self) -> dict[str, str]:
        """The filters applied, as the query string gave them, for the pager's and the
        export links (a filter that failed its checks is left out)."""
        return {
            f.name: f.raw_data[0] for f in self if f.raw_data and f.raw_data[0] and not f.errors
        }


# -- dates -------------------------------------------------------------------------------


def _today() -> date:
    if has_app_context():
        from tracker.current import today

        return today()
    return date.today()


class _WindowDateField(DateField):
    """A date field that takes only days in a window around today (rules.dates), with a
    message in Chinese; the date picker offers the same window."""

    window: Callable[[date], tuple[date, date]]

    def __init__(self, label=None, validators=None, format="%Y-%m-%d", **kwargs):
        super().__init__(label, validators, format, **kwargs)
        earliest, latest = type(self).window(_today())
        self.render_kw = {
            "min": earliest.isoformat(),
            "max": latest.isoformat(),
            **(self.render_kw or {}),
        }

    def pre_validate(self, form) -> None:
        super().pre_validate(form)
        if isinstance(self.data, date):
            today = _today()
            error = dates.window_error(self.label.text, self.data, type(self).window(today), today)
            if error:
                raise ValidationError(error)


class EventDateField(_WindowDateField):
    """The day something happened (submitted, assigned, contacted, signed, sent, rated, a
    progress note, done): from 1990 to today."""

    window = staticmethod(dates.event_window)


class PlanDateField(_WindowDateField):
    """A day planned or asked for (a due date, an extension, a filter's period): from 1990
    to ten years ahead."""

    window = staticmethod(dates.plan_window)


# -- lengths -----------------------------------------------------------------------------


class EachLength(Length):
    """Length for a list of names (NameListField): at most `count` names of at most `max`
    characters each."""

    def __init__(self, max: int, count: int, message: str | None = None):
        super().__init__(max=max, message=message)
        self.count = count
        self.field_flags = {}  # no maxlength on the input: it holds several names

    def __call__(self, form, field) -> None:
        names = field.data or []
        if len(names) > self.count:
            raise ValidationError(f"最多填写{self.count}个（现有{len(names)}个）。")
        too_long = [name for name in names if len(name) > self.max]
        if too_long:
            raise ValidationError(f"每个不能超过{self.max}个字：“{too_long[0][:20]}…”过长。")


# -- helpers -----------------------------------------------------------------------------


def options(pairs: Iterable[tuple[object, str]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]


def filter_options(pairs: Iterable[tuple[object, str]]) -> list[SelectChoice]:
    """A list filter's choices: 全部 (no filter) first, then the pairs, their values as the
    query string carries them."""
    return options([("", "全部"), *((str(value), label) for value, label in pairs)])


def as_id(value: str | None) -> int | None:
    """A database id from a query string or form value: ASCII digits only ("²" and "١"
    pass str.isdigit but are not ids) up to MAX_ID, else None."""
    if value and value.isascii() and value.isdigit() and len(value) <= len(str(MAX_ID)):
        number = int(value)
        return number if number <= MAX_ID else None
    return None
