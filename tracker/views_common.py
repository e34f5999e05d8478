"""What every view does the same way: load the row a URL names, and write.

A request that writes has one commit point, here (as Indico's request handler keeps one):
``perform`` validates the form, runs one service call (which only flushes), commits, flashes
and redirects; a refusal rolls back and re-renders the page with the reason. The few writes
that follow no form call ``commit`` and say why (a failed login's counters, the signed-in
session kept alive, a waiting import job handed to a new runner); the error pages call
``rollback``. ``tests/test_views_commit_point.py`` keeps every other module that answers
requests from committing, rolling back, loading a row by id or catching a refusal itself."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import NamedTuple, TypeVar

from flask import abort, flash, g, has_request_context, redirect, request
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from werkzeug.exceptions import HTTPException

from tracker.extensions import db
from tracker.services.errors import Conflict, DomainError, NotFound, PermissionDenied

T = TypeVar("T")


def get_or_404(
    model: type[T],
    ident: int,
    can: Callable[[T], bool] | None = None,
    *,
    named: Callable[[T], bool] | None = None,
    denied: int = 403,
    options: Sequence = (),
) -> T:
    """The ``model`` row with this id (flaskr's ``get_post``): 404 when there is none, or
    when ``named`` says the row is not one this URL can name (another user's reminder, a
    job of another kind); ``denied`` (403, or 404 where a refusal must not tell that the row
    exists) when ``can`` refuses the current user. ``options``: loader options (what the
    page shows of the row's relations, read together)."""
    row = db.session.get(model, ident, options=list(options))
    if row is None or (named is not None and not named(row)):
        abort(404)
    if can is not None and not can(row):
        abort(denied)
    return row


class Done(NamedTuple):
    """What an action did: the message to flash (None: nothing to say), where to go (None:
    the view's ``then``), the flash category, and what to do once the commit is made (start
    a process that reads what was committed)."""

    message: str | None
    url: str | None = None
    category: str = "success"
    after_commit: Callable[[], object] | None = None


Outcome = str | Done | tuple[str, str] | None


def _done(result: Outcome) -> Done:
    if result is None or isinstance(result, str):
        return Done(result)
    return Done(*result)


def perform(
    form: FlaskForm | None,
    action: Callable[[], Outcome],
    *,
    then: str | Callable[[], str] | None = None,
    failed: Callable[[int], ResponseReturnValue] | None = None,
    valid: bool | None = None,
    on_error: Callable[[DomainError], ResponseReturnValue | None] | None = None,
    respond: Callable[[], ResponseReturnValue] | None = None,
) -> ResponseReturnValue:
    """Validate → one service call → commit → flash → redirect; a refusal re-renders.

    ``form`` is validated here unless ``valid`` says how the view found it (a form the view
    checked itself; ``form=None``: nothing to validate but the CSRF token, which
    CSRFProtect checked). ``action`` makes the one service call and returns the message to
    flash, a ``(message, url)`` pair or a ``Done``. After the commit the user goes to the
    action's URL, else ``then`` (a URL, or a callable asked after the commit, for a target
    that depends on what the action did).

    A ``DomainError`` rolls back and puts its reason (and its ``errors``, one per line of a
    bulk entry) on the form, or flashes it when there is no form; ``on_error`` may answer
    such a refusal itself (an edit conflict). Then ``failed(status)`` answers: 400 after a
    POST, 200 for a GET showing the form. ``failed=None`` redirects to ``then``. A
    ``PermissionDenied`` rolls back and answers 403.

    ``respond`` answers a success with a page instead of the redirect, for what must be
    shown once and kept nowhere (a new API token: no flash, no URL).
    """
    if valid is None:
        valid = form.validate_on_submit() if form is not None else True
    if valid:
        # a write on a GET (a link that marks something read) takes the write lock
        with lock_for_write() if request.method in SAFE_METHODS else nullcontext():
            try:
                done = _done(action())
            except PermissionDenied:
                db.session.rollback()
                abort(403)
            except DomainError as error:
                db.session.rollback()
                reasons = [str(error), *getattr(error, "errors", ())]
                if form is not None:
                    form.form_errors.extend(reasons)
                else:
                    for reason in reasons:
                        flash(reason, "error")
                answer = on_error(error) if on_error is not None else None
                if answer is not None:
                    return answer
            else:
                db.session.commit()
                if done.after_commit is not None:
                    done.after_commit()
                if done.message:
                    flash(done.message, done.category)
                if respond is not None:
                    return respond()
                target = done.url or (then() if callable(then) else then)
                if target is None:
                    raise ValueError("perform() needs a URL to go to after the commit")
                return redirect(target)
    status = 400 if request.method == "POST" else 200
    if failed is not None:
        return failed(status)
    target = then() if callable(then) else then
    if target is None:
        raise ValueError("perform() needs failed= or then= to answer a refusal")
    return redirect(target)


class Refused(HTTPException):
    """A service's refusal as the API answers it (problem details, tracker.errors): 403, 404
    or 422 with the reason, and a bulk entry's reasons one per line in ``errors``."""

    def __init__(self, code: int, reason: str, errors: list[str] | tuple[str, ...] = ()):
        super().__init__(description=reason)
        self.code = code
        self.errors = [{"field": "body", "message": e} for e in errors] or None


REFUSAL_CODES = ((PermissionDenied, 403), (NotFound, 404), (Conflict, 409))


def write(action: Callable[[], T]) -> T:
    """The API's write: one service call (which only flushes), then the commit. A refusal
    rolls back and answers as problem details: PermissionDenied 403, NotFound 404, Conflict
    409, any other DomainError 422."""
    try:
        result = action()
    except DomainError as error:
        db.session.rollback()
        code = next((c for kind, c in REFUSAL_CODES if isinstance(error, kind)), 422)
        raise Refused(code, str(error), tuple(getattr(error, "errors", ()))) from None
    db.session.commit()
    return result


def commit() -> None:
    """The commit of a write that follows no form; each caller says why it is one."""
    db.session.commit()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def reads_only() -> bool:
    """Whether the transaction about to begin serves a request that only reads: a GET, HEAD
    or OPTIONS outside the API (which counts every request against its token's limit) that
    has not asked for the write lock. Commands and jobs always write."""
    if not has_request_context() or request.method not in SAFE_METHODS:
        return False
    if request.blueprint in ("api", "api_docs"):
        return False
    return not g.get("write_lock", False)


@contextmanager
def lock_for_write() -> Iterator[None]:
    """A write in a request that only reads (a GET): on SQLite such a request's transaction
    begins without the write lock (tracker/__init__.py), and one that read and then writes
    fails at once when another worker wrote in between. This ends the read (the rows loaded
    so far reload on their next use) and the statements inside run in a transaction that
    waits for the lock first; the caller commits inside."""
    db.session.commit()  # nothing pending: only reads so far
    g.write_lock = True
    try:
        yield
    finally:
        g.write_lock = False


def rollback() -> None:
    """Drop what a failed request wrote (the error pages)."""
    db.session.rollback()
