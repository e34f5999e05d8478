"""Keeping the search index in step with the database.

An engine whose index is a table of the database (``search.in_database``: PostgreSQL) is
written in the transaction itself: ``note_changes`` (after_flush) notes every reply letter
written or deleted, ``write_noted`` (before_commit of the outermost transaction) reads them
back as they are about to be committed and writes their index rows on the same
connection. They commit or roll back together, every worker and server sees them at once,
and nothing is left to do after the commit.

An engine with an index of its own (Whoosh's folder) follows the database through a
transactional outbox:

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
from tracker.search import in_database
from tracker.search.base import LetterDoc, SearchEngine

log = logging.getLogger(__name__)

BATCH = 500
DELETE_BATCH = 5000  # outbox rows deleted a statement (SQLite takes 32,766 parameters)


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
        **LetterDoc.texts(letter),
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


def load_docs(
    session: Session, letter_ids: Iterable[int], *, lock: bool = False
) -> tuple[list[LetterDoc], set[int]]:
    """The index documents of these letters, and the ids to remove (gone or not indexable).
    `lock`: the letters are read under a share lock (no one changes them until commit)."""
    ids = set(letter_ids)
    statement = (
        select(ReplyLetter)
        .where(ReplyLetter.id.in_(ids))
        .options(selectinload(ReplyLetter.proposal))
    )
    if lock:
        statement = statement.with_for_update(read=True, of=ReplyLetter)
    letters = session.execute(statement).scalars().all()
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


def note_changes(session: Session, _flush_context) -> None:
    """after_flush, for an in-database engine: note every reply letter written or deleted
    (``write_noted`` writes their index rows before the commit)."""
    ids = {
        obj.id
        for obj in session.new | session.dirty
        if isinstance(obj, ReplyLetter) and session.is_modified(obj, include_collections=False)
    }
    ids |= {obj.id for obj in session.deleted if isinstance(obj, ReplyLetter)}
    if ids:
        session.info.setdefault("search_letters", set()).update(ids)


def write_noted(session: Session, engine: SearchEngine) -> None:
    """before_commit, for an in-database engine: the index rows of the letters noted, as
    they are about to be committed, written on the transaction's connection. (Before the
    commit's own flush, so flushed here first; a savepoint's commit leaves them to the
    outermost transaction.)"""
    if session.in_nested_transaction():
        return
    for _ in range(10):  # reading the letters may flush more changes
        session.flush()
        ids = session.info.pop("search_letters", None)
        if not ids:
            return
        docs, gone = load_docs(session, ids)
        engine.write(session.connection(), docs, gone)


def queue_noted(session: Session) -> None:
    """before_commit, for an outbox engine: outbox rows for the letters noted outside a
    flush (``enqueue_disclosure``)."""
    if session.in_nested_transaction():
        return
    ids = session.info.pop("search_letters", None)
    if ids:
        session.execute(insert(SearchOutbox), [{"letter_id": i, "op": "upsert"} for i in ids])
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
    # A savepoint's rollback leaves the outer transaction's outbox rows in place (and the
    # letters noted: written as they are at the commit, one rolled back is removed).
    if not previous_transaction.nested:
        session.info.pop("search_pending", None)
        session.info.pop("search_letters", None)


def enqueue_disclosure(session: Session, code: str) -> int:
    """Re-index every letter with this disclosure mode (its public flag changed): noted,
    and written at the commit (``write_noted``, or outbox rows by ``queue_noted``)."""
    ids = (
        session.execute(select(ReplyLetter.id).where(ReplyLetter.disclosure == code))
        .scalars()
        .all()
    )
    note_letters(session, ids)
    return len(ids)


def note_letters(session: Session, letter_ids: Iterable[int]) -> None:
    """Letters written without the ORM's flush (Core statements, which ``note_changes``
    and ``record_changes`` do not see): indexed at the commit like the others."""
    ids = set(letter_ids)
    if ids:
        session.info.setdefault("search_letters", set()).update(ids)


@contextmanager
def _drain_lock(index_dir: Path, engine: SearchEngine):
    """One drain at a time across processes on this machine (and on a shared folder); an
    in-database engine needs none (its writes are transactions)."""
    if in_database(engine):
        yield
        return
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
    or removed. Never raises: a failure is logged and the rows stay for the next drain.
    (An in-database engine has no outbox rows of its own: those left from another engine
    are applied in one transaction, the letters read under a share lock so that none
    changes meanwhile.)"""
    try:
        with _drain_lock(index_dir, engine), Session(db.engine) as session:
            rows = session.execute(
                select(SearchOutbox.id, SearchOutbox.letter_id).order_by(SearchOutbox.id)
            ).all()
            if not rows:
                return 0
            ids = list(dict.fromkeys(r.letter_id for r in rows))
            gone: set[int] = set()
            if in_database(engine):
                docs, gone = load_docs(session, ids, lock=True)
                written = engine.write(session.connection(), docs, gone)
                _delete_read(session, rows)
                session.commit()
                return written

            def docs() -> Iterator[LetterDoc]:
                for start in range(0, len(ids), BATCH):
                    batch_docs, batch_gone = load_docs(session, ids[start : start + BATCH])
                    gone.update(batch_gone)
                    yield from batch_docs
                    session.expunge_all()

            written = engine.index(docs())
            if gone:
                engine.remove(gone)
            _delete_read(session, rows)
            session.commit()
            return written + len(gone)
    except Exception:
        log.exception("search index update failed; pending changes stay in the outbox")
        return 0


def _delete_read(session: Session, rows) -> None:
    """Delete the outbox rows a drain read, and no other. Not every row up to the last id
    read: a row's id is taken when it is written, so on PostgreSQL a transaction with a
    lower id can commit while the drain runs, after it read the rows; deleting "up to the
    last id" dropped that row unread, and its letter's change never reached the index. (On
    SQLite writers take turns, and ids come in the order of the commits.)"""
    ids = [r.id for r in rows]
    for start in range(0, len(ids), DELETE_BATCH):
        chunk = ids[start : start + DELETE_BATCH]
        session.execute(
            delete(SearchOutbox).where(
                SearchOutbox.id.between(chunk[0], chunk[-1]), SearchOutbox.id.in_(chunk)
            )
        )


def schema_ready() -> bool:
    """Whether the database has the tracker's tables (not before init-db)."""
    try:
        return inspect(db.engine).has_table(SearchOutbox.__tablename__)
    except Exception:  # the database may not exist yet
        return False


def waiting_changes() -> int:
    """Outbox rows a crash left (looked at when the app starts); 0 before init-db."""
    if not schema_ready():
        return 0
    try:
        with Session(db.engine) as session:
            return pending(session)
    except Exception:  # the database may not answer yet
        return 0


def prepare(engine: SearchEngine, index_dir: Path) -> list[str]:
    """An in-database engine's index after an upgrade (``tracker init-db``): its text
    index built when missing or when RUM can now be had, its table filled when it is
    empty while the database has letters to index (the migration that creates it has just
    run) and rebuilt when its rows are of an earlier format (searches answer from the old
    rows meanwhile). What was done, one line each."""
    if not in_database(engine):
        return []
    done = []
    built = engine.repair()
    if built:
        done.append(f"search index: {built.upper()} index built")
    indexed = bool(engine.ids())
    if indexed and engine.outdated():
        count = rebuild(engine, index_dir)
        done.append(f"search index rebuilt in the current format: {count} letters")
    elif not indexed:
        with Session(db.engine) as session:
            letters = session.execute(
                select(ReplyLetter.id).where(ReplyLetter.status.in_(SENT_LETTER_STATUSES)).limit(1)
            ).first()
        if letters:
            done.append(f"search index built in the database: {rebuild(engine, index_dir)} letters")
    return done


def rebuild(engine: SearchEngine, index_dir: Path) -> int:
    """Recreate the index from the database and clear the outbox."""
    with _drain_lock(index_dir, engine), Session(db.engine) as session:
        # the rows there before the letters are read; any committed later (whatever its
        # id, see _delete_read) stays for the next drain
        read = session.execute(select(SearchOutbox.id).order_by(SearchOutbox.id)).all()
        count = engine.rebuild(iter_all_docs(session))
        if read:
            _delete_read(session, read)
            session.commit()
    return count
