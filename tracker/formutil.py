"""Small helpers shared by the feature forms."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import SelectChoice

# WTForms' own messages ("Not a valid date value.") in Chinese: WTForms ships the
# translation; Flask-WTF's Babel route is off (WTF_I18N_ENABLED = False in config).
FlaskForm.Meta.locales = ("zh",)


def options(pairs: Iterable[tuple[object, str]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]


def as_id(value: str | None) -> int | None:
    """A database id from a query string or form value: ASCII digits only ("²" and "١"
    pass str.isdigit but are not ids), else None."""
    if value and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None
