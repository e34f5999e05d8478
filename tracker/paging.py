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


def paginate(query: Select, *, per_page: int, count: Select | None = None) -> Pagination:
    """A page of `query`: the page asked for, or the last page when it is past the end.
    `count`: a statement that counts the same rows another way, for a query whose form
    reads a page quickly but counts slowly (else its rows are counted as a subquery)."""
    total = None if count is None else db.session.execute(count).scalar_one()

    def page_of(number: int) -> Pagination:
        page = db.paginate(
            query, page=number, per_page=per_page, error_out=False, count=total is None
        )
        if total is not None:
            page.total = total
        return page

    page = page_of(page_number())
    last = max(page.pages, 1)
    if page.page > last:
        page = page_of(last)
    return page
