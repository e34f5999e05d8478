"""Test fixtures: an app on a temporary database, a browser-like client with CSRF on, and
factories for units, users and proposals that go through the services."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date

import pytest

from tracker import create_app, current
from tracker.extensions import db
from tracker.models import Proposal, Unit, User
from tracker.services import proposals as svc
from tracker.services import users, vocab

TODAY = date(2026, 6, 15)  # a Monday; the official calendar covers 2026
PASSWORD = "correct-horse-9"
CSRF_RE = re.compile(
    r'name="(?:[\w-]+-)?csrf_token" type="hidden" value="([^"]+)"'
    r'|name="csrf_token" value="([^"]+)"'
)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """Production hashes with scrypt; tests use a cheap pbkdf2 so the suite stays fast.
    (Login still goes through check_password_hash, which reads the method from the hash.)"""
    from functools import partial

    from werkzeug.security import generate_password_hash

    import tracker.models

    monkeypatch.setattr(
        tracker.models,
        "generate_password_hash",
        partial(generate_password_hash, method="pbkdf2:sha256:1000"),
    )


def app_settings(tmp_path) -> dict:
    """The configuration of the test app (another app on the same files shares its data)."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}",
        "INDEX_DIR": str(tmp_path / "index"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "TODAY": TODAY.isoformat(),
        "JOB_SPAWN": False,  # tests run job runners themselves
        "JOB_LOG": str(tmp_path / "jobs.log"),
    }


@pytest.fixture
def app(tmp_path):
    app = create_app(app_settings(tmp_path))
    with app.app_context():
        db.create_all()
        vocab.ensure_defaults()
        db.session.commit()
    yield app
    close(app)


def close(app):
    """Release what an app holds: the search engine's files and the database pool."""
    engine = app.extensions.pop("search", None)
    if engine is not None:
        engine.close()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@contextmanager
def previous_index_version(monkeypatch):
    """Inside, the search engine writes indexes as the previous version did: version 3,
    without the character pairs."""
    from tracker.search import whoosh_engine

    make_schema = whoosh_engine.make_schema

    def schema_without_pairs():
        schema = make_schema()
        schema.remove(whoosh_engine.PAIRS)
        return schema

    with monkeypatch.context() as m:
        m.setattr(whoosh_engine, "make_schema", schema_without_pairs)
        m.setattr(whoosh_engine, "SCHEMA_VERSION", "tracker-search-3")
        yield


@pytest.fixture
def ctx(app):
    """An application context for tests that call services directly."""
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Browser:
    """The test client used as a browser: logs in through the form and posts forms with the
    CSRF token taken from a page, as a user's browser would."""

    def __init__(self, client):
        self.client = client
        self._token: str | None = None

    def get(self, url, **kwargs):
        response = self.client.get(url, **kwargs)
        self._remember_token(response)
        return response

    def _remember_token(self, response):
        if response.mimetype != "text/html":
            return
        match = CSRF_RE.search(response.get_data(as_text=True))
        if match:
            self._token = match.group(1) or match.group(2)

    def token(self) -> str:
        if self._token is None:
            self.get("/login")
            if self._token is None:
                self.get("/todo")
        assert self._token, "no CSRF token found on the page"
        return self._token

    def post(self, url, data=None, *, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token())
        response = self.client.post(url, data=data, **kwargs)
        self._remember_token(response)
        return response

    def login(self, username, password=PASSWORD):
        """Log in as `username`, ending any previous user's session first."""
        with self.client.session_transaction() as session:
            session.clear()
        self.client.delete_cookie("remember_token")
        self._token = None
        self.get("/login")
        response = self.post("/login", {"username": username, "password": password})
        self._token = None
        return response

    def logout(self):
        return self.post("/logout")


@pytest.fixture
def browser(app):
    return Browser(app.test_client())


@pytest.fixture
def make_unit(app):
    def make(name="广州市教育局", short=("市教育局",), prefix="穗教案", coordinating=False) -> Unit:
        with app.app_context():
            unit = users.find_unit(name)
            if unit is None:
                unit = Unit(
                    name=name,
                    short_names=list(short),
                    doc_prefix=prefix,
                    is_coordinating=coordinating,
                )
                db.session.add(unit)
                db.session.commit()
            return unit.id

    return make


@pytest.fixture
def make_user(app, make_unit):
    def make(username, role="clerk", unit: str | None = "广州市教育局", **unit_kwargs) -> int:
        with app.app_context():
            unit_obj = db.session.get(Unit, make_unit(unit, **unit_kwargs)) if unit else None
            user = users.create_user(
                None,
                username=username,
                password=PASSWORD,
                role=role,
                unit=unit_obj,
                display_name=username,
            )
            db.session.commit()
            return user.id

    return make


@pytest.fixture
def people(make_user, make_unit):
    """One user per role, plus a coordinating-office supervisor and a second unit's clerk."""
    make_unit("广州市卫生健康委员会", short=("市卫生健康委",), prefix="穗卫函")
    make_unit("广州市民政局", short=("市民政局",), prefix="穗民函")
    return {
        "admin": make_user("admin", "admin", None),
        "liaison": make_user("liaison", "liaison", None),
        "supervisor": make_user("supervisor", "supervisor"),
        "clerk": make_user("clerk", "clerk"),
        "duban": make_user(
            "duban",
            "supervisor",
            "广州市人民政府办公厅",
            short=("市府办公厅",),
            prefix="穗府办函",
            coordinating=True,
        ),
        "clerk_health": make_user("clerk-health", "clerk", "广州市卫生健康委员会"),
        "clerk_civil": make_user("clerk-civil", "clerk", "广州市民政局"),
    }


def _by_name(model, **where):
    return db.session.execute(db.select(model).filter_by(**where)).scalar_one()


@pytest.fixture
def make_proposal(app, people):
    """Register a proposal as the liaison and optionally assign it as the coordinating office.
    Returns the proposal id."""

    def make(
        number="20222174",
        *,
        title="关于进一步加强广州市中小学生心理健康管理工作的建议",
        proposer="曾志伟",
        session="市十六届人大一次会议",
        year=2026,
        kind="建议",
        lead="广州市教育局",
        co=("广州市卫生健康委员会",),
        assigned_on=date(2026, 3, 2),
        sign=False,
    ) -> int:
        with app.app_context():
            liaison = _by_name(User, username="liaison")
            p = svc.register_proposal(
                liaison,
                session=svc.get_or_create_session(session, year=year),
                kind=kind,
                number=number,
                title=title,
                lead_proposer=proposer,
                submitted_on=date(2026, 1, 20),
            )
            if lead:
                duban = _by_name(User, username="duban")
                svc.assign_units(
                    duban,
                    p,
                    lead_units=[_by_name(Unit, name=lead)],
                    co_units=[_by_name(Unit, name=c) for c in co],
                    assigned_on=assigned_on,
                    policy=current.deadline_policy(),
                )
                if sign:
                    clerk = (
                        db.session.execute(
                            db.select(User).where(
                                User.unit_id == p.assignments[0].unit_id, User.role == "clerk"
                            )
                        )
                        .scalars()
                        .first()
                    )
                    svc.sign_for(clerk, p.assignments[0])
            db.session.commit()
            return p.id

    return make


def get_proposal(proposal_id) -> Proposal:
    return db.session.get(Proposal, proposal_id)
