"""The tracker's data model (SQLAlchemy 2 typed models).

Dates end in ``_on``; timestamps end in ``_at`` and are stored in UTC.
Codes stored in the database are English (``lead``, ``handling``); the Chinese labels
users see live in ``tracker.rules.labels`` (state machine names) or in vocabulary rows
(classification grades, contact channels, satisfaction levels, disclosure modes).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    event,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.extensions import db

# The largest id there can be: the id columns are INTEGER, 32 bits on PostgreSQL, which
# refuses a larger number in a query (a server error) where SQLite finds nothing.
MAX_ID = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


class Unit(db.Model):
    """A handling unit (承办单位), or the coordinating office (督办/交办 office)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    short_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    doc_prefix: Mapped[str | None] = mapped_column(String(40))
    is_coordinating: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def matches(self, text: str) -> bool:
        text = text.strip()
        return text == self.name or text in (self.short_names or [])

    @property
    def short_name(self) -> str:
        return (self.short_names or [self.name])[0]

    def __repr__(self) -> str:
        return f"<Unit {self.name}>"


class User(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))  # clerk, supervisor, liaison, admin, deputy
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    # a deputy's (代表/委员) name as proposals give their proposers (lead or 附议): the
    # deputy sees the proposals that name them (services.deputies)
    deputy_name: Mapped[str | None] = mapped_column(String(120), index=True)
    email: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    unit: Mapped[Unit | None] = relationship()

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    # The login session this object was signed in or loaded with (tracker.services.sessions):
    # plain attributes of the object, not columns.
    login_token = None  # str | None: the session's token, as held in its cookies
    login_session = None  # LoginSession | None

    def get_id(self) -> str:
        """Flask-Login's alternative id, kept in the session and remember cookies: the token of
        the login session, not the user id, so that ending the session's row on the server
        ends every copy of those cookies."""
        if self.login_token is None:
            raise RuntimeError("no login session: start one with services.sessions.start")
        return self.login_token

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def label(self) -> str:
        return self.display_name or self.username

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class LoginSession(db.Model):
    """One signed-in browser. Only a hash of its token is kept: the token itself lives in
    that browser's cookies. Logging out, 全部退出, a password change or reset and
    deactivation delete rows; a row idle too long (or past its remember period) is dead."""

    __tablename__ = "login_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")

    user: Mapped[User] = relationship()


class LoginThrottle(db.Model):
    """Failed logins in a row for one account name (as typed, existing or not) or one
    client address, shared by every worker and server; see services/logins.py."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("scope", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))  # account / address
    key: Mapped[str] = mapped_column(String(64))  # lower-cased user name, or IP address
    failures: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]


class ApiToken(db.Model):
    """A personal API token (/api/v1): its user creates and revokes it on the account page
    and it acts with exactly that user's role and unit. Only the SHA-256 of the token is
    kept (the token is 256 random bits: a fast hash is enough, and lets a request find its
    row by an index); ``prefix`` is the token's public start, shown in the list. The rate
    limit's fixed window (``window_start``, ``window_count``) is counted in this row, so
    every worker and server shares it."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    window_start: Mapped[int] = mapped_column(default=0)  # the window's number (epoch / length)
    window_count: Mapped[int] = mapped_column(default=0)  # requests counted in it

    user: Mapped[User] = relationship()


class CongressSession(db.Model):
    """A session (届次会议) of a people's congress or CPPCC, e.g. 市十六届人大一次会议."""

    __tablename__ = "congress_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(8))  # 人大 / 政协
    level: Mapped[str] = mapped_column(String(8), default="市")  # 全国 / 省 / 市 / 区
    name: Mapped[str] = mapped_column(String(80), unique=True)
    year: Mapped[int]
    term: Mapped[int | None]  # 届
    sitting: Mapped[int | None]  # 次会议

    def __repr__(self) -> str:
        return f"<CongressSession {self.name}>"


class Proposal(db.Model):
    """A deputy's suggestion (建议), a CPPCC proposal (提案) or a motion (议案)."""

    __table_args__ = (
        UniqueConstraint("session_id", "number"),
        # the list's order (key items first, the newest first): a page read off the index
        Index("ix_proposal_list_order", "is_key", "id"),
        # the list filtered by status and grade (replied A, say), in its order, with the
        # title a search of the list matches: counted and paged off the index, not by
        # reading each of 80,000 replied proposals' rows (their texts) for the grade
        Index("ix_proposal_status_grade", "status", "classification", "is_key", "id", "title"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("congress_session.id"))
    kind: Mapped[str] = mapped_column(String(4))  # 建议 / 提案 / 议案
    number: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    lead_proposer: Mapped[str] = mapped_column(String(120))
    proposer_kind: Mapped[str] = mapped_column(String(8), default="代表")  # 代表 / 委员 / 单位
    co_signers: Mapped[list[str]] = mapped_column(JSON, default=list)
    # the proposal's text (内容摘要, up to 20,000 characters): read when it is shown (the
    # proposal's page, its similar letters), never with the lists' and pages' many rows
    content: Mapped[str] = mapped_column(Text, default="", deferred=True)
    delegation: Mapped[str | None] = mapped_column(String(80))  # 代表团 / 界别 / 党派
    submitted_on: Mapped[date | None]
    assigned_on: Mapped[date | None]
    is_key: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="registered", index=True)
    round: Mapped[int] = mapped_column(default=1)
    classification: Mapped[str | None] = mapped_column(String(16))  # latest reply's grade
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the last change to the item or to anything of it (units, contacts, letters, ratings):
    # set by touch_changed() at every flush, read by the API's ?updated_since=
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    session: Mapped[CongressSession] = relationship()
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="proposal", order_by="Assignment.id", cascade="all, delete-orphan"
    )
    contacts: Mapped[list[ContactLog]] = relationship(
        back_populates="proposal", order_by="ContactLog.contacted_on", cascade="all, delete-orphan"
    )
    letters: Mapped[list[ReplyLetter]] = relationship(
        back_populates="proposal", order_by="ReplyLetter.id"
    )
    feedback: Mapped[list[Feedback]] = relationship(
        back_populates="proposal", order_by="Feedback.id", cascade="all, delete-orphan"
    )

    @property
    def proposers(self) -> list[str]:
        return [self.lead_proposer, *(self.co_signers or [])]

    @property
    def active_assignments(self) -> list[Assignment]:
        return [a for a in self.assignments if a.active]

    @property
    def lead_assignment(self) -> Assignment | None:
        current = [a for a in self.active_assignments if a.role == "lead"]
        return current[-1] if current else None

    def __repr__(self) -> str:
        return f"<Proposal {self.number}>"


class Assignment(db.Model):
    """One unit's part in handling a proposal (交办): lead (主办), co-handling (会办) or
    separate (分办). A reassigned unit's row stays, inactive, for the record."""

    # 督办统计 counts replies and overdue unreplied items (replied_on NULL, due_on in the
    # period: one range of the same index, which holds what those counts test: the
    # unreplied in a period are mostly co-units' rows, which never reply, each read from the
    # table for its role, 1,200 of them 3-5 ms of the page on SQLite) and re-handling in a
    # period; 办结率 counts the first round's items assigned in a period and those answered
    # off the second index alone (role and replied_on in it: each item's row was read, 10 ms
    # of the page).
    # A unit's proposals are its assignments' proposal ids, read off the unit's index alone
    # (counted for a clerk's list without reading a proposal row; a proposal's row holds
    # its text, so 13,000 of them were 13,000 pages).
    __table_args__ = (
        Index(
            "ix_assignment_replied_due",
            *("replied_on", "due_on", "role", "active", "round", "proposal_id", "unit_id"),
        ),
        Index("ix_assignment_round_assigned_on", "round", "assigned_on", "role", "replied_on"),
        Index("ix_assignment_unit_proposal", "unit_id", "proposal_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    role: Mapped[str] = mapped_column(String(8))  # lead / co / separate
    round: Mapped[int] = mapped_column(default=1)  # handling round; 2+ after 不满意
    active: Mapped[bool] = mapped_column(default=True)
    assigned_on: Mapped[date]
    due_on: Mapped[date]  # reply due (lead/separate) or opinion due (co)
    original_due_on: Mapped[date]
    max_due_on: Mapped[date | None]  # latest date an extension may reach
    due_estimated: Mapped[bool] = mapped_column(default=False)  # Mon–Fri fallback used
    reassign_until: Mapped[date | None]
    signed_for_at: Mapped[datetime | None]
    signed_for_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # requested/approved/refused; indexed for the requests waiting (the office's 我的待办)
    reassign_status: Mapped[str | None] = mapped_column(String(12), index=True)
    reassign_reason: Mapped[str | None] = mapped_column(Text)
    reassign_suggested_unit: Mapped[str | None] = mapped_column(String(120))
    reassign_requested_at: Mapped[datetime | None]
    reassign_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reassign_decision_note: Mapped[str | None] = mapped_column(Text)
    reassign_decided_at: Mapped[datetime | None]
    reassign_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    opinion_text: Mapped[str | None] = mapped_column(Text)
    opinion_on: Mapped[date | None]
    opinion_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    replied_on: Mapped[date | None]  # lead/separate: when its reply was issued
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="assignments")
    unit: Mapped[Unit] = relationship()
    signed_for_by: Mapped[User | None] = relationship(foreign_keys=[signed_for_by_id])
    opinion_by: Mapped[User | None] = relationship(foreign_keys=[opinion_by_id])
    extensions: Mapped[list[ExtensionRequest]] = relationship(
        back_populates="assignment", order_by="ExtensionRequest.id", cascade="all, delete-orphan"
    )

    @property
    def is_co(self) -> bool:
        return self.role == "co"

    @property
    def done(self) -> bool:
        """The unit's part is finished: opinion sent (co) or reply issued (lead/separate)."""
        return self.opinion_on is not None if self.is_co else self.replied_on is not None

    @property
    def pending_extension(self) -> ExtensionRequest | None:
        return next((e for e in self.extensions if e.status == "pending"), None)


def assignment_unanswered():
    """An active assignment whose part is not done (the opinion of a co-unit, the reply of
    the others), read off the assignment alone: what a unit has open is this and the
    proposal's round (services/todo.py)."""
    return and_(
        Assignment.active.is_(True),
        or_(
            and_(Assignment.role == "co", Assignment.opinion_on.is_(None)),
            and_(Assignment.role != "co", Assignment.replied_on.is_(None)),
        ),
    )


# A unit's open work (我的待办) off an index of the unanswered assignments only: a few
# hundred among a unit's 13,000 (a partial index on both databases; a query whose WHERE
# holds the same terms reads it). It holds every column those queries test, so that a
# unit's 2,300 items in hand are counted and its urgent ones chosen without reading the
# table (OPEN_INDEX_COLUMNS).
OPEN_INDEX_COLUMNS = (
    "unit_id",
    "due_on",
    "id",
    "role",
    "signed_for_at",
    "active",
    "opinion_on",
    "replied_on",
    "proposal_id",
    "round",
)
Index(
    "ix_assignment_open",
    *(Assignment.__table__.c[name] for name in OPEN_INDEX_COLUMNS),
    sqlite_where=assignment_unanswered(),
    postgresql_where=assignment_unanswered(),
)


class ExtensionRequest(db.Model):
    """A request to move a reply's due date (延期申请), decided by a supervisor."""

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), index=True)
    requested_due_on: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending/granted/refused
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decision_note: Mapped[str | None] = mapped_column(Text)
    old_due_on: Mapped[date | None]

    assignment: Mapped[Assignment] = relationship(back_populates="extensions")
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class ContactLog(db.Model):
    """A contact with the deputy or member (沟通联系)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    round: Mapped[int] = mapped_column(default=1)
    contacted_on: Mapped[date]
    channel: Mapped[str] = mapped_column(String(16))  # vocabulary contact_channel code
    phase: Mapped[str] = mapped_column(String(8))  # before / during / after
    participants: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(12), default="manual")  # manual / letter
    # the deputy's answer online: None (not answered), confirmed, disputed (有异议: shown to
    # the unit and the coordinating office, and not counted as a contact made)
    deputy_status: Mapped[str | None] = mapped_column(String(12), index=True)
    deputy_comment: Mapped[str | None] = mapped_column(Text)
    deputy_answered_at: Mapped[datetime | None]
    deputy_answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    proposal: Mapped[Proposal] = relationship(back_populates="contacts")
    unit: Mapped[Unit | None] = relationship()
    logged_by: Mapped[User | None] = relationship(foreign_keys=[logged_by_id])

    @property
    def disputed(self) -> bool:
        return self.deputy_status == "disputed"


class ReplyLetter(db.Model):
    """A formal reply letter (答复函): drafted here or imported from the corpus.

    The fields follow DOMAIN.md's table; ``status`` runs draft → submitted → approved →
    issued → published, and imported letters start as ``imported``.
    """

    # 督办统计's letters of a period by unit and grade, counted off the index (a letter's
    # row holds its whole text)
    __table_args__ = (
        Index("ix_reply_letter_period", "letter_on", "status", "classification", "unit_id"),
        # a unit's letters newest first, and their status, off the index (我的待办's letters
        # with candidates to confirm)
        Index("ix_reply_letter_unit_letter_on", "unit_id", "letter_on", "status"),
        # a unit's sent letters, off the index (how many have candidates, 我的待办)
        Index("ix_reply_letter_unit_status", "unit_id", "status", "id"),
        # the latest letters, newest first (the public page's before a search)
        Index("ix_reply_letter_day", "letter_on", "id"),
        # the letters a person must complete, in the order they came, and how many (待审核)
        Index("ix_reply_letter_review", "needs_review", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    round: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    title: Mapped[str | None] = mapped_column(String(300))
    issuer: Mapped[str | None] = mapped_column(String(120))
    addressee: Mapped[str | None] = mapped_column(String(200))
    proposal_kind: Mapped[str | None] = mapped_column(String(4))
    session_name: Mapped[str | None] = mapped_column(String(80))
    proposal_number: Mapped[str | None] = mapped_column(String(32), index=True)
    proposal_title: Mapped[str | None] = mapped_column(String(300))
    proposers: Mapped[list[str]] = mapped_column(JSON, default=list)
    classification: Mapped[str | None] = mapped_column(String(16))
    doc_number: Mapped[str | None] = mapped_column(String(80), index=True)
    doc_year: Mapped[int | None]
    doc_serial: Mapped[int | None]
    letter_on: Mapped[date | None]
    published_at: Mapped[datetime | None]
    co_units: Mapped[list[str]] = mapped_column(JSON, default=list)
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown (drafted) or plain text
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    contact_person: Mapped[str | None] = mapped_column(String(60))
    contact_phone: Mapped[str | None] = mapped_column(String(60))
    disclosure: Mapped[str | None] = mapped_column(String(12))  # vocabulary disclosure code
    disclosure_reason: Mapped[str | None] = mapped_column(Text)
    cc: Mapped[list[str]] = mapped_column(JSON, default=list)
    issued_on: Mapped[date | None]
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    source_file: Mapped[str | None] = mapped_column(String(300), index=True)
    source_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    needs_review: Mapped[bool] = mapped_column(default=False)
    review_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)  # optimistic lock for concurrent edits
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    proposal: Mapped[Proposal | None] = relationship(back_populates="letters")
    unit: Mapped[Unit | None] = relationship()
    versions: Mapped[list[LetterVersion]] = relationship(
        back_populates="letter", order_by="LetterVersion.number", cascade="all, delete-orphan"
    )
    commitments: Mapped[list[Commitment]] = relationship(
        back_populates="letter", order_by="Commitment.id"
    )
    co_signs: Mapped[list[CoSignRequest]] = relationship(
        back_populates="letter", order_by="CoSignRequest.id", cascade="all, delete-orphan"
    )


class CoSignRequest(db.Model):
    """One co-handling unit asked to co-sign (会签) one version of the lead unit's draft:
    requested, then agreed (同意) or returned (退回) with comments. A returned request stays
    for the record; the resubmitted version asks that unit again in a new row."""

    __tablename__ = "cosign_request"
    __table_args__ = (UniqueConstraint("letter_id", "unit_id", "letter_version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("reply_letter.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    letter_version: Mapped[int]  # the letter's version the unit is asked about
    status: Mapped[str] = mapped_column(String(12), default="requested", index=True)
    # requested / agreed / returned
    comment: Mapped[str | None] = mapped_column(Text)
    due_on: Mapped[date]
    due_estimated: Mapped[bool] = mapped_column(default=False)  # Mon–Fri fallback used
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    letter: Mapped[ReplyLetter] = relationship(back_populates="co_signs")
    unit: Mapped[Unit] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class LetterVersion(db.Model):
    """Every saved version of a reply letter, for comparison and the record."""

    __table_args__ = (UniqueConstraint("letter_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("reply_letter.id"), index=True)
    number: Mapped[int]
    body: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    comment: Mapped[str | None] = mapped_column(Text)
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    letter: Mapped[ReplyLetter] = relationship(back_populates="versions")
    saved_by: Mapped[User | None] = relationship()


class DocNumberCounter(db.Model):
    """The last document serial allocated per unit and year (穗教案〔2022〕119号)."""

    __table_args__ = (UniqueConstraint("unit_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    year: Mapped[int]
    last_serial: Mapped[int] = mapped_column(default=0)


class Feedback(db.Model):
    """The deputy's rating of a reply (评价), one per handling round."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("reply_letter.id"))
    round: Mapped[int] = mapped_column(default=1)
    satisfaction: Mapped[str] = mapped_column(String(16))  # vocabulary satisfaction code
    attitude: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_on: Mapped[date] = mapped_column(index=True)  # 督办统计's ratings of a period
    # how the deputy says the unit contacted them: a contact_channel code, or "none"
    contact_method: Mapped[str | None] = mapped_column(String(16))
    # "online": the deputy rated it themselves; "proxy": 代填, a liaison entered the paper
    # form (recorded_by says who)
    source: Mapped[str] = mapped_column(String(8), default="proxy", server_default="proxy")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="feedback")
    letter: Mapped[ReplyLetter | None] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class Commitment(db.Model):
    """A promise a reply made (承诺事项), followed up until done or dropped."""

    __table_args__ = (
        # a letter's candidates waiting, counted per letter without reading every candidate
        Index("ix_commitment_letter_status", "letter_id", "status"),
        # 督办统计's commitments due in a period, counted off the index
        Index("ix_commitment_status_due_on", "status", "due_on", "unit_id"),
        # a unit's commitments by status and due date (我的待办, the unit's list)
        Index("ix_commitment_unit_status_due_on", "unit_id", "status", "due_on"),
        # a unit's finished commitments not yet reported back (我的待办), off the index, in
        # the order of the list (done_on, id)
        Index(
            "ix_commitment_unit_report",
            "unit_id",
            "status",
            "reported_back_on",
            "done_on",
            "id",
            "letter_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("reply_letter.id"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    section: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date | None]
    target: Mapped[str | None] = mapped_column(String(60))
    # candidate → open → in_progress → done / dropped (a candidate may be discarded);
    # "overdue" is never stored: it is derived from due_on (see services.commitments)
    status: Mapped[str] = mapped_column(String(12), default="candidate", index=True)
    drop_reason: Mapped[str | None] = mapped_column(Text)
    reported_back_on: Mapped[date | None]
    reported_back_note: Mapped[str | None] = mapped_column(Text)
    done_on: Mapped[date | None]
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the last change to the commitment or its progress notes (touch_changed)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    letter: Mapped[ReplyLetter | None] = relationship(back_populates="commitments")
    proposal: Mapped[Proposal | None] = relationship()
    unit: Mapped[Unit | None] = relationship()
    confirmed_by: Mapped[User | None] = relationship()
    updates: Mapped[list[CommitmentUpdate]] = relationship(
        back_populates="commitment",
        order_by="CommitmentUpdate.noted_on",
        cascade="all, delete-orphan",
    )


# The commitment lists' order: the soonest due first, those without a date last (an
# expression, as a date-less commitment comes last on both databases).
_LIST_ORDER = (Commitment.due_on.is_(None), Commitment.due_on, Commitment.id)

# Every unit's commitment list (督办, the admin, the liaison) in its order, and in its order
# for one status, read off these indexes of the tracked commitments alone (a fifth of the
# rows: candidates and discarded ones are never listed): PostgreSQL sorted the 200,000
# tracked commitments of 100,000 letters for each page (120-300 ms). The one status leads
# the second, as the statuses follow the dates (the open ones are the recent ones: walking
# the first index's order for them passed 180,000 done ones). SQLite uses a partial index
# only for a filter it reads in the statement: the list writes these statuses out
# (services.commitments._confirmed).
_TRACKED = text("status IN ('open', 'in_progress', 'done', 'dropped')")
Index(
    "ix_commitment_tracked_list",
    *_LIST_ORDER,
    postgresql_where=_TRACKED,
    sqlite_where=_TRACKED,
)
Index(
    "ix_commitment_tracked_status_list",
    Commitment.status,
    *_LIST_ORDER,
    postgresql_where=_TRACKED,
    sqlite_where=_TRACKED,
)

# A unit's commitment list in its order, read off the index with the status it filters
# on: the first page sorted the unit's 25,000 commitments.
Index("ix_commitment_unit_list", Commitment.unit_id, *_LIST_ORDER, Commitment.status)


class CommitmentUpdate(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitment.id"), index=True)
    noted_on: Mapped[date]
    note: Mapped[str] = mapped_column(Text)
    evidence_url: Mapped[str | None] = mapped_column(String(500))
    evidence_file: Mapped[str | None] = mapped_column(String(300))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    commitment: Mapped[Commitment] = relationship(back_populates="updates")
    author: Mapped[User | None] = relationship()


class VocabularyTerm(db.Model):
    """An editable vocabulary entry: classification grades (by scheme), contact channels,
    satisfaction levels, disclosure modes."""

    __table_args__ = (UniqueConstraint("vocabulary", "scheme", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    vocabulary: Mapped[str] = mapped_column(String(24), index=True)
    scheme: Mapped[str] = mapped_column(String(24), default="")
    code: Mapped[str] = mapped_column(String(24))
    label: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    sort_order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    needs_followup: Mapped[bool] = mapped_column(default=False)  # classification B/C
    is_public: Mapped[bool] = mapped_column(default=False)  # disclosure 主动公开
    reopens: Mapped[bool] = mapped_column(default=False)  # satisfaction 不满意


class CalendarDay(db.Model):
    """An admin-entered official calendar day: a holiday or a make-up working day (调休).
    Rows for a year take precedence over the chinese-calendar package."""

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    is_workday: Mapped[bool]
    note: Mapped[str] = mapped_column(String(60), default="")


class Setting(db.Model):
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class Notification(db.Model):
    """An in-app notification (reminder digest line) for a user."""

    __table_args__ = (Index("ix_notification_user_read", "user_id", "read_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    key: Mapped[str] = mapped_column(String(120))  # item and day, so it is sent once
    text: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class ReminderDelivery(db.Model):
    """One reminder item delivered to one user over one channel on one day: the record
    that keeps `tracker remind` from sending the same item twice a day."""

    __table_args__ = (UniqueConstraint("user_id", "channel", "item_key", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # inapp / email / sms
    item_key: Mapped[str] = mapped_column(String(120))
    day: Mapped[date]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id"), index=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()


class SearchOutbox(db.Model):
    """Index changes written in the same transaction as the data, applied after commit."""

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(index=True)
    op: Mapped[str] = mapped_column(String(8))  # upsert / delete
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Job(db.Model):
    """Work longer than a page load (an import of uploaded letters), run outside the web
    worker by `tracker run-jobs`. A runner claims a job atomically (``runner``) and beats
    ``heartbeat_at``; when the beat stops (the runner died) another runner claims the job
    and resumes it after its last recorded item."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # import_letters
    status: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    # queued / running / done / failed
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    runner: Mapped[str | None] = mapped_column(String(120))  # host:pid:nonce of the claimant
    heartbeat_at: Mapped[datetime | None]
    spawned_at: Mapped[datetime | None]  # a runner process was last started for it
    attempts: Mapped[int] = mapped_column(default=0)  # runs started
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    owner: Mapped[User | None] = relationship()


class JobItem(db.Model):
    """One item of a job's report (for an import: one file), recorded in the transaction
    that did its work, so a resumed job skips exactly the items already done."""

    __table_args__ = (
        UniqueConstraint("job_id", "seq"),
        Index("ix_job_item_job_status", "job_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    seq: Mapped[int]  # the item's place in the job's fixed order
    label: Mapped[str] = mapped_column(String(500))  # "a.docx", "archive.zip/folder/b.pdf"
    fmt: Mapped[str] = mapped_column(String(16), default="")
    status: Mapped[str] = mapped_column(String(12))  # as corpus.Outcome
    reason: Mapped[str] = mapped_column(Text, default="")
    letter_id: Mapped[int | None] = mapped_column(
        ForeignKey("reply_letter.id", ondelete="SET NULL")
    )


class AssessmentScheme(db.Model):
    """One version of the year's assessment scheme (考评方案): scored items as data (see
    tracker.rules.assessment). A version used for a finalized year is frozen: editing the
    scheme then makes a new version, so that year's scores stay what they were."""

    __tablename__ = "assessment_scheme"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(Text, default="")  # 依据 (the rules it follows)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    in_person_channels: Mapped[list[str]] = mapped_column(JSON, default=list)  # 面复 channels
    frozen_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class AssessmentYear(db.Model):
    """A year's assessment finalized (定稿) under one scheme version."""

    __tablename__ = "assessment_year"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("assessment_scheme.id"))
    finalized_at: Mapped[datetime] = mapped_column(default=utcnow)
    finalized_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    scheme: Mapped[AssessmentScheme] = relationship()


# -- the time of the last change, for the API's ?updated_since= -----------------------------


def _parent(session: Session, row: Any, name: str, model: type) -> Any:
    """The row's parent through relationship ``name``: as set on the row (a new row's foreign
    key is only filled in by the flush), else by its foreign key."""
    parent = row.__dict__.get(name)
    if parent is None and (ident := getattr(row, f"{name}_id", None)) is not None:
        parent = session.get(model, ident)
    return parent


def _proposal_of(session: Session, row: Any) -> Proposal | None:
    """The proposal a row's change changes: its own, or its assignment's (an extension)."""
    if isinstance(row, Assignment | ContactLog | Feedback | ReplyLetter):
        return _parent(session, row, "proposal", Proposal)
    if isinstance(row, ExtensionRequest):
        assignment = _parent(session, row, "assignment", Assignment)
        return _parent(session, assignment, "proposal", Proposal) if assignment else None
    return None


@event.listens_for(Session, "before_flush")
def touch_changed(session: Session, _context, _instances) -> None:
    """Every flush that adds, changes or deletes a proposal or a row of it (its units,
    contacts, extension requests, ratings, letters) sets the proposal's ``updated_at``; a
    commitment's own change or a new progress note sets the commitment's. A system polling
    with ``?updated_since=`` so sees every change, whichever service made it."""
    now = utcnow()
    touched: list[Proposal | Commitment] = []
    with session.no_autoflush:
        for row in (*session.new, *session.dirty, *session.deleted):
            if row in session.dirty and not session.is_modified(row):
                continue
            if isinstance(row, Proposal | Commitment):
                touched.append(row)
            elif isinstance(row, CommitmentUpdate):
                commitment = _parent(session, row, "commitment", Commitment)
                if commitment is not None:
                    touched.append(commitment)
            elif (proposal := _proposal_of(session, row)) is not None:
                touched.append(proposal)
    for row in touched:
        if row not in session.deleted:
            row.updated_at = now
