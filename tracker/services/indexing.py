"""Keeping the search index in step with the database (a transactional outbox).

- ``after_flush``: every reply letter written or deleted in the transaction gets an outbox
  row, inserted on the same connection, so it commits or rolls back with the data.
- ``after_commit``: the outbox is drained: letters are read back from the database as
  committed and written to the index by one writer at a time (a file lock beside the
  index serialises drains across gunicorn workers, so a slower worker can never overwrite
  a newer version with an older one).
- A drain that fails (a crash, a full disk) leaves its rows; the next commit, the next
  start of the app, or ``tracker reindex`` applies them.

The database is the source of truth; ``rebuild`` recreates the index from it. The engine
and its folder are passed in: tracker/search_hooks.py wires these listeners to the app's
engine.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import delete, insert, inspect, select
from sqlalchemy.orm import Session, selectinload

from tracker.extensions import db
from tracker.models import ReplyLetter, SearchOutbox, VocabularyTerm
from tracker.rules.labels import PUBLISHED_LETTER_STATUSES, SENT_LETTER_STATUSES
from tracker.search.base import LetterDoc, SearchEngine

log = logging.getLogger(__name__)

BATCH = 500


# -- what the index holds of a letter -----------------------------------------------


def public_disclosures(session: Session) -> set[str]:
    rows = session.execute(
        select(VocabularyTerm.code).where(
            VocabularyTerm.vocabulary == "disclosure", VocabularyTerm.is_public.is_(True)
        )
    ).scalars()
    return set(rows)


def restricted_disclosures(session: Session) -> set[str]:
    """Disclosure modes that keep a letter inside its unit (不予公开)."""
    return {"不予公开"}


def is_public(letter: ReplyLetter, public_codes: set[str]) -> bool:
    """Published to everyone: a tracker letter once published, an imported letter whose
    disclosure line says 主动公开."""
    if letter.disclosure not in public_codes:
        return False
    return letter.status in PUBLISHED_LETTER_STATUSES


def letter_doc(letter: ReplyLetter, public_codes: set[str], restricted: set[str]) -> LetterDoc:
    session_name = letter.session_name or (letter.proposal.session.name if letter.proposal else "")
    return LetterDoc(
        id=letter.id,
        title=letter.title or "",
        proposal_title=letter.proposal_title or "",
        body=letter.body or "",
        proposers=tuple(letter.proposers or ()),
        issuer=letter.issuer or "",
        doc_number=letter.doc_number or "",
        proposal_number=letter.proposal_number or "",
        session=session_name or "",
        kind=letter.proposal_kind or "",
        classification=letter.classification or "",
        letter_on=letter.letter_on,
        source=letter.source_file or "",
        public=is_public(letter, public_codes),
        restricted_unit_id=letter.unit_id if letter.disclosure in restricted else None,
    )


def _indexable(letter: ReplyLetter) -> bool:
    return letter.status in SENT_LETTER_STATUSES


def load_docs(session: Session, letter_ids: Iterable[int]) -> tuple[list[LetterDoc], set[int]]:
    """The index documents of these letters, and the ids to remove (gone or not indexable)."""
    ids = set(letter_ids)
    letters = (
        session.execute(
            select(ReplyLetter)
            .where(ReplyLetter.id.in_(ids))
            .options(selectinload(ReplyLetter.proposal))
        )
        .scalars()
        .all()
    )
    public_codes, restricted = public_disclosures(session), restricted_disclosures(session)
    docs = [letter_doc(le, public_codes, restricted) for le in letters if _indexable(le)]
    return docs, ids - {d.id for d in docs}


def iter_all_docs(session: Session, batch: int = BATCH) -> Iterator[LetterDoc]:
    public_codes, restricted = public_disclosures(session), restricted_disclosures(session)
    last = 0
    while True:
        letters = (
            session.execute(
                select(ReplyLetter)
                .where(ReplyLetter.id > last, ReplyLetter.status.in_(SENT_LETTER_STATUSES))
                .options(selectinload(ReplyLetter.proposal))
                .order_by(ReplyLetter.id)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not letters:
            return
        for letter in letters:
            yield letter_doc(letter, public_codes, restricted)
        last = letters[-1].id
        session.expunge_all()


# -- the outbox ------------------------------------------------------------------------


def record_changes(session: Session, _flush_context) -> None:
    """after_flush: an outbox row for every reply letter written or deleted."""
    rows = []
    for obj in session.new | session.dirty:
        if isinstance(obj, ReplyLetter) and session.is_modified(obj, include_collections=False):
            rows.append({"letter_id": obj.id, "op": "upsert"})
    for obj in session.deleted:
        if isinstance(obj, ReplyLetter):
            rows.append({"letter_id": obj.id, "op": "delete"})
    if rows:
        session.connection().execute(insert(SearchOutbox), rows)
        session.info["search_pending"] = True


def committed_changes(session: Session) -> bool:
    """after_commit: True when the commit leaves outbox rows to apply now (not inside a
    savepoint, whose data is not committed yet, nor inside ``deferred_changes``)."""
    if session.in_nested_transaction():
        return False
    if session.info.get("search_deferred"):  # a bulk import drains once at its end
        return False
    return bool(session.info.pop("search_pending", False))


@contextmanager
def deferred_changes(session: Session):
    """Commit as often as needed inside; ``committed_changes`` says no until the end, when
    the caller drains once."""
    session.info["search_deferred"] = True
    try:
        yield
    finally:
        session.info.pop("search_deferred", None)
        session.info.pop("search_pending", None)


def forget_changes(session: Session, previous_transaction) -> None:
    """after_soft_rollback: a rolled-back transaction has nothing for the index."""
    # A savepoint's rollback leaves the outer transaction's outbox rows in place.
    if not previous_transaction.nested:
        session.info.pop("search_pending", None)


def enqueue_disclosure(session: Session, code: str) -> int:
    """Re-index every letter with this disclosure mode (its public flag changed)."""
    ids = (
        session.execute(select(ReplyLetter.id).where(ReplyLetter.disclosure == code))
        .scalars()
        .all()
    )
    if ids:
        session.execute(insert(SearchOutbox), [{"letter_id": i, "op": "upsert"} for i in ids])
        session.info["search_pending"] = True
    return len(ids)


@contextmanager
def _drain_lock(index_dir: Path):
    """One drain at a time across processes on this machine (and on a shared folder)."""
    folder = Path(index_dir)
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / "drain.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def pending(session: Session) -> int:
    return session.execute(select(db.func.count(SearchOutbox.id))).scalar_one()


def drain(engine: SearchEngine, index_dir: Path) -> int:
    """Apply every pending outbox row to the index in one writer; returns the letters written
    or removed. Never raises: a failure is logged and the rows stay for the next drain."""
    try:
        with _drain_lock(index_dir), Session(db.engine) as session:
            rows = session.execute(
                select(SearchOutbox.id, SearchOutbox.letter_id).order_by(SearchOutbox.id)
            ).all()
            if not rows:
                return 0
            ids = list(dict.fromkeys(r.letter_id for r in rows))
            gone: set[int] = set()

            def docs() -> Iterator[LetterDoc]:
                for start in range(0, len(ids), BATCH):
                    batch_docs, batch_gone = load_docs(session, ids[start : start + BATCH])
                    gone.update(batch_gone)
                    yield from batch_docs
                    session.expunge_all()

            written = engine.index(docs())
            if gone:
                engine.remove(gone)
            session.execute(delete(SearchOutbox).where(SearchOutbox.id <= rows[-1].id))
            session.commit()
            return written + len(gone)
    except Exception:
        log.exception("search index update failed; pending changes stay in the outbox")
        return 0


def waiting_changes() -> int:
    """Outbox rows a crash left (looked at when the app starts); 0 before init-db."""
    try:
        if not inspect(db.engine).has_table(SearchOutbox.__tablename__):
            return 0
        with Session(db.engine) as session:
            return pending(session)
    except Exception:  # the database may not exist yet (before init-db)
        return 0


def rebuild(engine: SearchEngine, index_dir: Path) -> int:
    """Recreate the index from the database and clear the outbox."""
    with _drain_lock(index_dir), Session(db.engine) as session:
        marker = session.execute(select(db.func.max(SearchOutbox.id))).scalar()
        count = engine.rebuild(iter_all_docs(session))
        if marker is not None:
            session.execute(delete(SearchOutbox).where(SearchOutbox.id <= marker))
            session.commit()
    return count
