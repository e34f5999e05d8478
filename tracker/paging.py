"""The one place a list page reads its page number (`?page=`)."""

from __future__ import annotations

from flask import request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from tracker.extensions import db

MAX_PAGE = 10**6  # past any list's end; a larger number is read as this one


def page_number() -> int:
    """The page asked for: 1 for anything that is not a positive number, MAX_PAGE at most
    (the caller shows the last page when the list is shorter)."""
    text = request.args.get("page", "")
    if not (text.isascii() and text.isdigit()):
        return 1
    if len(text) > len(str(MAX_PAGE)):
        return MAX_PAGE
    return min(max(int(text), 1), MAX_PAGE)


def paginate(query: Select, *, per_page: int) -> Pagination:
    """A page of `query`: the page asked for, or the last page when it is past the end."""
    page = db.paginate(query, page=page_number(), per_page=per_page, error_out=False)
    last = max(page.pages, 1)
    if page.page > last:
        page = db.paginate(query, page=last, per_page=per_page, error_out=False)
    return page
