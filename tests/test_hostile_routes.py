"""Every route, walked with hostile values: no input gives a server error (5xx).

The walk reads the routes from app.url_map, so a new route is covered without a row here.
For each role and for anonymous visitors, in a world with an item of every kind
(test_route_permissions.world):

1. every GET route is opened with valid values; the forms on the pages tell which fields
   each POST route takes and which query arguments each GET route reads;
2. each URL parameter takes hostile values, the others valid: ids past a 64-bit integer,
   the largest there is, negative, zero, 5,000 digits; strings of 100,000 characters, with
   NUL and control characters, with bytes that are not UTF-8 (a lone surrogate), '../'
   paths, dates;
3. each GET route the role may open gets hostile query arguments: those its forms send and
   those the code reads from request.args (found in the source) all at once, then each of
   its form's fields on its own, the others valid;
4. each POST route is posted with its form as the page offers it (valid CSRF token, its
   fields filled in), then with one field at a time taking a hostile value for its kind
   (dates far in the past and future or impossible, numbers past 64 bits, text of 100,000
   characters or with control characters or bytes that are not UTF-8, file names of 750
   bytes or with '../' and NUL), then with every field hostile at once.

Values are sampled, not combined: a parameter gets a few values with the others valid, so
that the request gets past the form to the code behind it, and each role takes different
ones of the values, so that the roles together use them all."""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, quote_plus, urlsplit

import pytest
from conftest import ON_POSTGRES
from sqlalchemy import BigInteger, Integer, String, event, inspect
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session
from test_route_permissions import world  # noqa: F401
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.routing import AnyConverter, IntegerConverter, Rule
from werkzeug.test import encode_multipart

from tracker.extensions import db
from tracker.models import LoginThrottle, Unit

pytestmark = pytest.mark.long  # the walk: seconds for each role

# the role walking, and its turn: which of the sampled values it takes
TURNS = {"anonymous": 0, "admin": 0, "supervisor": 1, "clerk": 2, "liaison": 3}

# 100,000 characters (104,000 bytes of UTF-8): past every length a field takes. Mostly
# ASCII, because each percent-escape of a form body costs the server (urllib.parse.unquote)
# about a microsecond: 20,000 Chinese characters (60,000 escapes) in every post were 40% of
# what the walk cost, and a few thousand test the same
LONG = "长" * 2000 + "x" * 98_000
SOME_LONG = "长" * 1000 + "x" * 1000  # for every query argument at once: a URL stays short
CONTROL = "a\x00b\x01\x08\x0b\x1b\x7f\x85\u2028c/../../etc/passwd"
NOT_UTF8 = b"\xed\xa0\x80\xed\xb0\x80\xff\xfe"  # a surrogate as CESU-8; bytes UTF-8 never has
HUGE = str(2**63)
HUGER = str(10**30)
FAR_DATES = ["9999-12-31", "0001-01-01", "99999-01-01", "2026-02-30"]

# hostile values by the kind of parameter; NOT_UTF8 goes as raw bytes in query strings and
# urlencoded bodies (a multipart body gets CONTROL instead)
HOSTILE = {
    "int": [HUGE, HUGER, "-1", "0"],
    "date": FAR_DATES,
    "text": [LONG, CONTROL, NOT_UTF8, HUGER],
}
PATH_HOSTILE = {
    "int": [HUGE, HUGER, str(2**63 - 1), "-1", "0", "9" * 5000],
    "text": ["x" * 100_000, CONTROL, NOT_UTF8, "../../etc/passwd", "..", "9999-12-31", HUGER],
}
QUERY_HOSTILE = [SOME_LONG + CONTROL, NOT_UTF8, HUGE, "-1", *FAR_DATES[:2]]
HOSTILE_FILES = [
    "关于进一步加强广州市中小学生心理健康管理工作的建议" * 10 + ".pdf",  # 750 bytes
    "../../../etc/passwd.pdf",
    "a\x00b\x1f.pdf",
    "....",
    "x" * 300 + ".docx",
]

# valid values of URL parameters by name: a key of `world`, or "=" and the value; where a
# route wants others; a parameter named nowhere here gets "1"
VALID = {
    "proposal_id": "p1",
    "assignment_id": "lead",
    "letter_id": "draft",
    "commitment_id": "cm",
    "update_id": "upd",
    "job_id": "job",
    "notification_id": "notice",
    "user_id": "clerk_id",
    "unit_id": "unit_id",
    "term_id": "term_id",
    "day_id": "day_id",
    "lock_id": "lock",
    "extension_id": "ext",
    "session_id": "=999999",  # never the walker's own session
    "year": "=2027",
    "vocabulary": "=contact_channel",
    "fmt": "=csv",
    "filename": "=css/app.css",
}
VALID_BY_ENDPOINT = {
    "replies.letter": {"letter_id": "public"},
    "replies.export": {"letter_id": "public", "fmt": "=docx"},
    "replies.review_letter": {"letter_id": "public"},
    "replies.disclosure": {"letter_id": "secret"},
    "public.letter": {"letter_id": "public"},
    "public.export": {"letter_id": "public", "fmt": "=html"},
    "commitments.review": {"letter_id": "public"},
    "proposals.opinion": {"assignment_id": "co"},
    "commitments.confirm": {"commitment_id": "cand"},
}
# form fields whose valid value the walk cannot guess from the page (as in VALID)
FORM_VALUES = {
    "proposals.new": {"session_id": "=1", "number": "=20269001", "submitted_on": "=2026-01-20"},
    "replies.review_letter": {"session": "=市十六届人大一次会议", "number": "=20262001"},
    "admin.user_new": {
        "username": "=walker",
        "password": "=correct-horse-9-new",
        "unit_id": "unit_id",
    },
    "admin.user_password": {"confirm": "=correct-horse-9-new"},
    "admin.calendar_year": {"lines": "=2027-02-05~2027-02-11 休 春节\n2027-02-14 班"},
}
LAST = ("auth.logout", "auth.session_end_all")  # each ends the walker's session
# query arguments every GET route gets, besides its forms' and those the code reads
GENERIC_ARGS = ["page", "q", "sort", "dir", "status", "unit", "next", "year", "id", "date"]
SOURCE = Path(__file__).resolve().parent.parent / "tracker"


def args_read_in_source() -> list[str]:
    """The names the code reads from the query string: request.args.get("x"), ["x"]."""
    found = set()
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found.update(re.findall(r"request\.args(?:\.get|\.getlist)?[(\[]\s*[\"'](\w+)", text))
    return sorted(found)


# -- forms on the pages --------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # the input's type, "select", "textarea" or "button"
    value: str = ""
    options: list[str] = field(default_factory=list)
    required: bool = False
    multiple: bool = False


@dataclass
class Form:
    action: str
    method: str
    multipart: bool
    fields: list[Field] = field(default_factory=list)


class FormParser(HTMLParser):
    """Forms with their fields, the values they hold and a select's options."""

    def __init__(self, page_path: str):
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = urlsplit(a.get("action") or self.page_path).path or self.page_path
            method = (a.get("method") or "get").lower()
            self._form = Form(action, method, "multipart" in a.get("enctype", ""))
            self.forms.append(self._form)
            return
        if tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
            if "selected" in a:
                self._select.value = a.get("value", "")
            return
        form, name = self._form, a.get("name")
        if form is None or not name:
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "reset", "image"):
                if a.get("value"):
                    form.fields.append(Field(name, "button", a["value"]))
            elif kind in ("checkbox", "radio") and "checked" not in a:
                if not any(f.name == name for f in form.fields):
                    form.fields.append(Field(name, kind, "", [a.get("value", "y")]))
            else:
                default = "y" if kind in ("checkbox", "radio") else ""
                value = a.get("value", default)
                form.fields.append(Field(name, kind, value, required="required" in a))
        elif tag == "select":
            self._select = Field(name, "select", required="required" in a, multiple="multiple" in a)
            form.fields.append(self._select)
        elif tag == "textarea":
            self._textarea = Field(name, "textarea", required="required" in a)
            form.fields.append(self._textarea)
        elif tag == "button" and a.get("value"):
            form.fields.append(Field(name, "button", a["value"]))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # a newline right after <textarea> is not part of its value
            self._textarea.value = re.sub(r"^\r?\n", "", self._textarea.value)
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data


@functools.cache
def _quoted(value: str | bytes) -> str:
    return quote_plus(value)


def urlencode(pairs: list[tuple[str, object]]) -> str:
    """urllib's urlencode, each value quoted once in the session: quoting the 100,000
    characters of LONG again for every request was a fifth of what the walk cost."""
    return "&".join(
        f"{_quoted(str(k))}={_quoted(v if isinstance(v, str | bytes) else str(v))}"
        for k, v in pairs
    )


def forms_on(page_path: str, html: str) -> list[Form]:
    parser = FormParser(page_path)
    parser.feed(html)
    return parser.forms


def kind_of(f: Field) -> str:
    """The kind of hostile values a field gets."""
    if f.kind == "date":
        return "date"
    if f.kind == "number":
        return "int"
    if f.kind in ("select", "checkbox", "radio") and any(o.isdigit() for o in f.options):
        return "int"
    return "text"


def filled(f: Field) -> str:
    """The field's value as the page offers it, or for a required one a plausible value, so
    that the rest of the form passes its checks while one field is hostile."""
    if f.value or f.kind in ("hidden", "file", "button"):
        return f.value
    if f.kind == "select" and f.multiple and not f.required:
        return ""  # nothing chosen
    if f.kind == "checkbox":
        return ""  # not ticked on the page
    if f.kind == "select" and not f.required:
        return f.options[0] if f.options else ""  # what a browser sends: the first option
    if f.kind in ("select", "radio"):
        return next((o for o in f.options if o), "")
    if not f.required:
        return ""
    return {"date": "2026-06-10", "number": "1", "password": "correct-horse-9-new"}.get(
        f.kind, "说明情况"
    )


# -- what PostgreSQL would refuse ----------------------------------------------------------

INT_MAX = {Integer: 2**31 - 1, BigInteger: 2**63 - 1}


def out_of_bounds(obj) -> list[str]:
    """The values of a row about to be written that the tests' SQLite takes but PostgreSQL
    refuses (a server error there): text longer than its VARCHAR, an integer past its type."""
    found = []
    mapper = inspect(obj).mapper
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        value = getattr(obj, attr.key, None)
        if isinstance(value, str) and isinstance(column.type, String) and column.type.length:
            if len(value) > column.type.length:
                found.append(
                    f"{mapper.class_.__name__}.{attr.key}: {len(value)} characters, "
                    f"the column takes {column.type.length}"
                )
        elif isinstance(value, int) and not isinstance(value, bool):
            bound = next((m for t, m in INT_MAX.items() if type(column.type) is t), None)
            if bound is not None and not -bound - 1 <= value <= bound:
                found.append(f"{mapper.class_.__name__}.{attr.key}: {value} past its integer")
    return found


@contextmanager
def bounds_checked(found: list[str]):
    """Inside, every flush notes the rows PostgreSQL would refuse in `found`."""

    def check(session, flush_context, instances):
        for obj in [*session.new, *session.dirty]:
            found.extend(out_of_bounds(obj))

    event.listen(Session, "before_flush", check)
    try:
        yield
    finally:
        event.remove(Session, "before_flush", check)


# -- the walk ------------------------------------------------------------------------------


class Walk:
    def __init__(self, app, browser, ids: dict[str, int], turn: int):
        self.app = app
        self.browser = browser
        self.client = browser.client
        self.ids = ids
        self.turn = turn
        self.failures: list[str] = []
        self.requests = 0
        self.post_forms: dict[str, Form] = {}  # by action path
        self.get_fields: dict[str, list[Field]] = {}  # GET forms' fields by action path
        self.open_paths: set[str] = set()  # GET routes the role may open
        self.refused_by_postgres: list[str] = []  # see bounds_checked

    # requests

    def _check(self, response, what: str) -> bool:
        """Records a 5xx; whether the role may use the route (not refused, not sent to the
        login page)."""
        self.requests += 1
        if response.status_code >= 500:
            self.failures.append(f"{response.status_code} {_short(what)}")
        if self.refused_by_postgres:
            self.failures.append(f"{self.refused_by_postgres} {_short(what)}")
            self.refused_by_postgres.clear()
        response.close()
        if response.status_code in (401, 403, 405):
            return False
        return not (response.status_code == 302 and "/login" in response.location)

    def get(self, path: str, query: list[tuple[str, str | bytes]] | None = None) -> str:
        url = path + ("?" + urlencode(query) if query else "")
        response = self.client.get(url)
        html = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        if self._check(response, f"GET {url}") and not query:
            self.open_paths.add(path)
        return html

    def post(self, path: str, pairs: list[tuple[str, object]], multipart: bool) -> bool:
        if multipart:  # encoded here, in memory (the test client spools large ones to a file)
            data = MultiDict(
                (k, FileStorage(io.BytesIO(v[0]), v[1]) if isinstance(v, tuple) else v)
                for k, v in pairs
            )
            boundary, body = encode_multipart(data)
            content_type = f"multipart/form-data; boundary={boundary}"
        else:
            body = urlencode(pairs).encode("ascii")
            content_type = "application/x-www-form-urlencoded"
        response = self.client.post(path, data=body, content_type=content_type)
        return self._check(response, f"POST {path} {_describe(pairs)}")

    def sample(self, values: list, count: int, offset: int = 0) -> list:
        """`count` of `values`, different ones in each role's turn (and at each offset)."""
        start = self.turn * count + offset
        return [values[(start + i) % len(values)] for i in range(min(count, len(values)))]

    # URLs

    def rules(self) -> Iterator[Rule]:
        rules = self.app.url_map.iter_rules()
        yield from sorted(rules, key=lambda r: (r.endpoint in LAST, r.rule))

    def valid(self, rule: Rule, name: str) -> str:
        converter = rule._converters[name]
        if isinstance(converter, AnyConverter):
            return sorted(converter.items)[0]
        wanted = VALID_BY_ENDPOINT.get(rule.endpoint, {}).get(name) or VALID.get(name)
        return "1" if wanted is None else self.resolve(wanted)

    def resolve(self, wanted: str) -> str:
        """A value from VALID or FORM_VALUES: "=" and the value, or a key of the world."""
        return wanted[1:] if wanted.startswith("=") else str(self.ids[wanted])

    def url(self, rule: Rule, **raw: str | bytes) -> str:
        """The rule's path with valid values, but for those in `raw` (percent-encoded)."""
        path = rule.rule
        for name in rule.arguments:
            value = quote(raw.get(name, self.valid(rule, name)), safe="/")
            path = re.sub(rf"<(?:[^:<>]+:)?{name}>", lambda _, v=value: v, path)
        return path

    # the steps

    def discover(self) -> None:
        """Every GET route with valid values; the forms on its page."""
        for rule in self.rules():
            if "GET" not in rule.methods:
                continue
            path = self.url(rule)
            for form in forms_on(path, self.get(path)):
                if form.method == "post":
                    self.post_forms.setdefault(form.action, form)
                else:
                    self.get_fields.setdefault(form.action, []).extend(form.fields)

    def hostile_urls(self) -> None:
        token = self.browser.token()
        for rule in self.rules():
            for name in rule.arguments:
                converter = rule._converters[name]
                kind = "int" if isinstance(converter, IntegerConverter) else "text"
                for value in self.sample(PATH_HOSTILE[kind], 3):
                    path = self.url(rule, **{name: value})
                    if "GET" in rule.methods:
                        self.get(path)
                    else:
                        self.post(path, [("csrf_token", token)], multipart=False)

    def hostile_queries(self) -> None:
        from_code = args_read_in_source()
        for rule in self.rules():
            path = self.url(rule)
            if "GET" not in rule.methods or path not in self.open_paths:
                continue
            fields = {f.name: f for f in self.get_fields.get(path, []) if f.kind != "button"}
            names = sorted(set(GENERIC_ARGS) | set(from_code) | set(fields))
            # every argument at once, each taking a different kind in each of three requests
            for r in range(3):
                values = self.sample(QUERY_HOSTILE, len(QUERY_HOSTILE), offset=r)
                self.get(path, [(n, values[i % len(values)]) for i, n in enumerate(names)])
            # each field of the page's filter form on its own, the others as the form has them
            base = [(n, filled(f)) for n, f in fields.items()]
            for i, (name, f) in enumerate(fields.items()):
                for value in self.sample(HOSTILE[kind_of(f)], 1, offset=i):
                    self.get(path, [(n, v) for n, v in base if n != name] + [(name, value)])

    def hostile_posts(self) -> None:
        for rule in self.rules():
            if "POST" not in rule.methods:
                continue
            path = self.url(rule)
            form = self.post_forms.get(path) or Form(path, "post", False)
            token = self.browser.token()
            fields = [f for f in form.fields if f.name != "csrf_token"]
            known = {k: self.resolve(v) for k, v in FORM_VALUES.get(rule.endpoint, {}).items()}
            base = [("csrf_token", token)] + [
                (f.name, known.get(f.name, filled(f))) for f in fields if f.kind != "file"
            ]
            if not self.post(path, base, form.multipart):
                continue  # not this role's: refused whatever it sends
            if not fields:  # a form the role was not shown: fields that forms often have
                fields = [Field(n, "text") for n in ("text", "note", "reason", "ids", "date")]
            for i, f in enumerate(fields):
                if f.kind == "button":
                    continue
                if f.kind == "file":
                    for name in self.sample(HOSTILE_FILES, 2):
                        self.post(path, [*base, (f.name, (b"%PDF-1.4 hostile", name))], True)
                    continue
                for value in self.sample(HOSTILE[kind_of(f)], 1, offset=i):
                    if form.multipart and isinstance(value, bytes):
                        value = CONTROL
                    pairs = [(k, v) for k, v in base if k != f.name] + [(f.name, value)]
                    self.post(path, pairs, form.multipart)
            for value in self.sample([LONG, CONTROL, HUGER, FAR_DATES[0]], 1):
                pairs = [("csrf_token", token)] + [(f.name, value) for f in fields]
                self.post(path, pairs, form.multipart)


def _describe(pairs: list[tuple[str, object]]) -> str:
    """A posted form in a failure's line: each field's value cut short."""
    shown = []
    for name, value in pairs:
        if name.endswith("csrf_token"):
            continue
        if isinstance(value, tuple):
            value = f"file {value[1]!r}"
        shown.append(f"{name}={_short(repr(value), 40)}")
    return " ".join(shown)


def _short(text: str, most: int = 300) -> str:
    return text if len(text) <= most else f"{text[: most * 2 // 3]}…（{len(text)} characters）"


@pytest.mark.parametrize("role", list(TURNS))
def test_no_route_gives_a_server_error_for_hostile_values(app, browser, world, role):  # noqa: F811
    if role != "anonymous":
        assert browser.login(role).status_code == 302
    walk = Walk(app, browser, world, TURNS[role])
    with bounds_checked(walk.refused_by_postgres):
        walk.discover()
        walk.hostile_urls()
        walk.hostile_queries()
        walk.hostile_posts()
    assert not walk.failures, f"{len(walk.failures)} of {walk.requests} requests failed:\n" + (
        "\n".join(walk.failures)
    )


def test_the_walk_reaches_the_forms_and_the_arguments(app, browser, world):  # noqa: F811
    """The walk is not empty: it finds the routes' forms with their fields, the query
    arguments the code reads, and gets past a form's checks with the values it fills in."""
    assert {"page", "q", "metric", "scheme", "a", "b"} <= set(args_read_in_source())
    browser.login("clerk")
    walk = Walk(app, browser, world, turn=0)
    walk.discover()
    contact = walk.post_forms[f"/proposals/{world['p1']}/contacts"]
    assert {"contact-contacted_on", "contact-channel", "contact-summary"} <= {
        f.name for f in contact.fields
    }
    assert walk.post_forms[f"/commitments/{world['cm']}/updates"].multipart
    assert {"q", "status", "due_from"} <= {f.name for f in walk.get_fields["/commitments"]}
    assert f"/proposals/{world['p1']}" in walk.open_paths
    assert "/admin/users" not in walk.open_paths
    # the contact form as the walk fills it in is accepted: a hostile field is the only fault
    base = [("csrf_token", browser.token())] + [(f.name, filled(f)) for f in contact.fields]
    response = browser.client.post(contact.action, data=dict(base))
    assert response.status_code == 302


def test_the_walk_would_see_what_postgresql_refuses(app):
    """bounds_checked notes a row SQLite takes but PostgreSQL would refuse."""
    found: list[str] = []
    with app.app_context(), bounds_checked(found):
        db.session.add(Unit(name="单" * 121, short_names=[], doc_prefix="穗"))
        db.session.add(LoginThrottle(scope="account", key="clerk", failures=2**31))
        try:
            db.session.flush()
        except DataError:  # PostgreSQL itself refuses them (with TEST_DATABASE=postgres)
            assert ON_POSTGRES
        db.session.rollback()
    assert found == [
        "Unit.name: 121 characters, the column takes 120",
        f"LoginThrottle.failures: {2**31} past its integer",
    ]
