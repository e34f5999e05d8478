"""Importing reply letters from files into the database (the corpus).

Each file (.txt, .docx, .pdf, .html, .doc/.wps, or a member of a .zip archive: see
tracker.letters.formats) is read, parsed, then upserted with its session, proposal, units,
contacts and commitment candidates inside a savepoint: a bad file leaves no rows behind
and does not stop the others. A letter is known by its file's own name (for an archive's
member too) and the hash of its bytes: importing the same file twice changes nothing; a
changed file updates its letter. A letter whose proposal number or session cannot be read
is still imported and searchable, and flagged for review."""

from __future__ import annotations

import multiprocessing
import os
import shutil
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Select, insert, inspect, select, tuple_, update

from tracker.extensions import db
from tracker.letters import reading
from tracker.letters.formats import ARCHIVES, FORMATS, MB, ReadOptions
from tracker.letters.parser import ParsedLetter
from tracker.letters.patterns import disclosure_mode
from tracker.letters.reading import Parsed, Source, read_and_parse
from tracker.models import (
    Commitment,
    CongressSession,
    ContactLog,
    Proposal,
    ReplyLetter,
    Unit,
    utcnow,
)
from tracker.rules.clock import BEIJING, iso_date
from tracker.rules.proposal_sheet import proposal_number
from tracker.search.base import SearchEngine
from tracker.services import bulk, commitments, indexing, vocab

SUFFIXES = tuple(FORMATS) + tuple(ARCHIVES)
CHANNEL_ALIASES = {"视察": "视察调研", "调研": "视察调研", "见面": "面商", "座谈": "座谈会"}
KIND_OF_PROPOSER = {"建议": "代表", "议案": "代表", "提案": "委员"}
STATUSES = ("imported", "updated", "unchanged", "flagged", "failed")
STILL_FLAGGED = "仍待审核"  # an unchanged file whose letter still waits for review
BATCH = 100  # new letters written together (a divisor of the commands' 500 a commit)
POOL_MIN = 200  # files from which reading and parsing run in worker processes


@dataclass
class Outcome:
    file: str  # as the report names it: "a.docx", "archive.zip/folder/b.pdf"
    status: str  # imported / updated / unchanged / flagged / failed
    reason: str = ""
    letter_id: int | None = None
    fmt: str = ""  # the format the file was read as

    def line(self) -> str:
        """One line of the report: status, file, [format] and the reason, tab-separated."""
        return "\t".join(
            [self.status, self.file, f"[{self.fmt}]"] + [self.reason] * bool(self.reason)
        )


def read_options(config: Mapping) -> ReadOptions:
    """The limits and tools for reading files, from the app's settings."""
    soffice = config.get("SOFFICE") or ""
    return ReadOptions(
        max_file_bytes=int(float(config["IMPORT_MAX_FILE_MB"]) * MB),
        max_archive_files=int(config["IMPORT_MAX_ARCHIVE_FILES"]),
        max_archive_bytes=int(float(config["IMPORT_MAX_ARCHIVE_MB"]) * MB),
        soffice=shutil.which(soffice) if soffice else None,
        convert_timeout=float(config["SOFFICE_TIMEOUT"]),
    )


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named directly, and the letter files and archives below named folders (not
    hidden ones, nor Office lock files ~$…), in a stable order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in SUFFIXES
                and not any(part.startswith((".", "~$")) for part in p.relative_to(path).parts)
            )
        else:
            yield path


def iter_sources(paths: Iterable[str | Path], options: ReadOptions) -> Iterator[Source]:
    """The letters in files and folders, archives opened."""
    for path in iter_files(paths):
        yield from reading.sources(str(path), options=options)


class Importer:
    """Caches units and sessions across files; one instance per import run.

    ``import_many`` writes the new letters of a run in batches (``apply_many``): each
    batch's letters, proposals, contacts and commitment candidates are a few multi-row
    statements in one savepoint; a file that updates a letter, or a batch the database
    refuses, is written one file at a time (``apply``), so a bad file still leaves nothing
    behind and is reported on its own. `search`, the app's engine: one that builds its
    index rows ahead (``build_ahead``/``keep_ahead``: PostgreSQL's tsvectors) has them
    built by the worker processes that parse the files."""

    def __init__(self, options: ReadOptions, search: SearchEngine | None = None) -> None:
        self.options = options
        self.search = search
        self._units: dict[str, Unit] | None = None
        self._sessions: dict[str, CongressSession] = {}
        self._all_sessions = False  # every session is in _sessions (a miss is a new one)
        # Set by import_many for a bulk import: what exists already, so that a new file
        # costs no look-ups (None: look everything up).
        self._known_files: set[str] | None = None
        self._textless_numbers: set[str] | None = None
        self._proposal_keys: set[tuple[int, str]] | None = None
        self._channels = {t.code for t in vocab.terms("contact_channel", active_only=False)}
        self._public = {t.code for t in vocab.terms("disclosure", active_only=False) if t.is_public}

    # -- lookups ------------------------------------------------------------------------

    def unit(self, name: str | None) -> Unit | None:
        if not name:
            return None
        if self._units is None:
            self._units = {}
            for u in db.session.execute(select(Unit)).scalars():
                for key in [u.name, *(u.short_names or [])]:
                    self._units.setdefault(key, u)
        name = name.strip()
        found = self._units.get(name)
        if found is None:
            found = Unit(name=name, short_names=[])
            db.session.add(found)
            self._units[name] = found
        return found

    def session(self, name: str | None, year: int | None) -> CongressSession | None:
        if not name:
            return None
        if name in self._sessions:
            return self._sessions[name]
        found = None
        if not self._all_sessions:
            found = db.session.execute(
                select(CongressSession).where(CongressSession.name == name)
            ).scalar_one_or_none()
        if found is None and year:
            found = CongressSession(
                name=name,
                year=year,
                body="政协" if "政协" in name else "人大",
                level=next((lv for lv in ("全国", "省", "区", "市") if name.startswith(lv)), "市"),
            )
            db.session.add(found)
        if found is not None:
            self._sessions[name] = found
        return found

    def _forget(self) -> None:
        """After a rollback: the units and sessions cached may not exist."""
        self._units = None
        self._sessions = {}
        self._all_sessions = False

    # -- one file -----------------------------------------------------------------------

    def import_many(
        self, items: Iterable[Source | Path], *, workers: int | None = None
    ) -> Iterator[Outcome]:
        """Import files (paths are opened: an archive gives its members) in order. Reading
        and parsing (pure Python, the slow part) run in a pool of processes for large
        imports; the database work stays in this process."""
        found = [
            s
            for item in items
            for s in (
                [item]
                if isinstance(item, Source)
                else reading.sources(str(item), options=self.options)
            )
        ]
        known = self.learn()
        ahead = getattr(self.search, "build_ahead", None)
        # one process parses while this one writes: on two cores more workers only compete;
        # two when they also build the index rows (this process then mostly waits for the
        # database)
        cores = os.cpu_count() or 1
        if workers is None:
            workers = max(1, min(2, cores if ahead else cores - 1))
        if workers < 1 or len(found) < POOL_MIN or cores < 2:
            jobs = (
                (source, data, known.get(source.name), self.options)
                for source, data in reading.load(found, self.options)
            )
            for batch in _batches((read_and_parse(*job) for job in jobs), BATCH):
                yield from self.apply_many(batch)
            return
        jobs = (
            (source, data, known.get(source.name), self.options, ahead)
            for source, data in reading.load(found, self.options)
        )
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            parsed = _in_order(pool, jobs, window=max(workers * 64, 2 * BATCH))
            for batch in _batches(parsed, BATCH):
                if ahead:
                    for item in batch:
                        if item.ahead is not None:
                            self.search.keep_ahead(item.ahead)
                yield from self.apply_many(batch)

    def learn(self) -> dict[str, str]:
        """Read what exists already (files, textless replies, proposals), so that a new
        file costs no look-ups and new letters can be written in batches; the imported
        files' hashes by name."""
        known = {
            row.source_file: row.source_hash
            for row in db.session.execute(
                select(ReplyLetter.source_file, ReplyLetter.source_hash).where(
                    ReplyLetter.source_file.is_not(None)
                )
            )
        }
        self._known_files = set(known)
        self._textless_numbers = set(
            db.session.execute(
                select(ReplyLetter.doc_number).where(
                    ReplyLetter.source_file.is_(None), ReplyLetter.doc_number.is_not(None)
                )
            ).scalars()
        )
        self._proposal_keys = {
            (r.session_id, r.number)
            for r in db.session.execute(select(Proposal.session_id, Proposal.number))
        }
        self._sessions = {s.name: s for s in db.session.execute(select(CongressSession)).scalars()}
        self._all_sessions = True
        return known

    def exist(self, names: Iterable[str]) -> None:
        """These files have letters (found since ``learn``): not new."""
        if self._known_files is not None:
            self._known_files.update(names)

    def apply_many(self, items: list[Parsed]) -> list[Outcome]:
        """The database part of importing these parsed files, in order: the new letters
        together (``_write_new``), the others one by one (``apply``)."""
        outcomes: list[Outcome | None] = [None] * len(items)
        batch: list[tuple[int, Parsed]] = []
        names: set[str] = set()
        for number, item in enumerate(items):
            if self._is_new(item, names):
                batch.append((number, item))
                names.add(item.name)
                continue
            if item.parsed is not None and not item.error:  # it may read what the batch writes
                self._write_new(batch, outcomes)
                batch, names = [], set()
            outcomes[number] = self.apply(item)
        self._write_new(batch, outcomes)
        return outcomes

    def _is_new(self, item: Parsed, names: set[str]) -> bool:
        """A parsed file whose letter is new for certain (after ``learn``): not a file
        seen before (nor earlier in the batch), nor the text of a reply recorded here."""
        if item.error or item.parsed is None or self._known_files is None:
            return False
        if item.name in self._known_files or item.name in names:
            return False
        if reading.legacy_key(item.name) in self._known_files:
            return False  # perhaps imported when members were known by their own name
        number = item.parsed.doc_number
        return not (number and number in (self._textless_numbers or ()))

    def _write_new(self, batch: list[tuple[int, Parsed]], outcomes: list) -> None:
        """Write these new letters together in a savepoint, and set their outcomes; when
        the database refuses them, each file alone (the bad one fails by itself)."""
        if not batch:
            return
        savepoint = db.session.begin_nested()
        try:
            written = self._insert_new([item for _, item in batch])
            savepoint.commit()
        except Exception:  # a bad row: find it, file by file
            savepoint.rollback()
            self._forget()
            for number, item in batch:
                outcomes[number] = self.apply(item)
            return
        for (number, item), (letter_id, reason, key) in zip(batch, written, strict=True):
            self._known_files.add(item.name)
            if key is not None:
                self._proposal_keys.add(key)
            status = "flagged" if reason else "imported"
            outcomes[number] = Outcome(item.label, status, reason or "", letter_id, item.fmt)

    def _insert_new(self, items: list[Parsed]) -> list[tuple[int, str | None, tuple | None]]:
        """Insert new letters with their proposals, contacts and commitment candidates, as
        ``_upsert`` would one by one, in a few multi-row statements: (letter id, review
        reason, proposal key) of each."""
        plans = []
        for item in items:
            parsed = item.parsed
            letter_on = iso_date(parsed.letter_date)
            issuer = self.unit(parsed.issuer)
            for co_unit in parsed.co_units:
                self.unit(co_unit)
            session = self.session(parsed.session, letter_on.year if letter_on else None)
            plans.append((item, issuer, session))
        db.session.flush()  # new units and sessions get their ids

        keys = [
            (_id(session), item.parsed.proposal_number)
            if session is not None and item.parsed.proposal_number
            else None
            for item, _, session in plans
        ]
        existing = self._proposal_ids({k for k in keys if k in self._proposal_keys})
        new_rows: dict[tuple, dict] = {}
        for (item, _, _), key in zip(plans, keys, strict=True):
            if key is not None and key not in existing and key not in new_rows:
                parsed = item.parsed
                new_rows[key] = {
                    "session_id": key[0],
                    **proposal_fields(
                        key[1],
                        parsed.proposal_kind,
                        parsed.proposal_title or parsed.title,
                        parsed.proposers,
                        parsed.classification,
                    ),
                }
        proposal_ids = dict(existing)
        if new_rows:
            table = Proposal.__table__
            ids = db.session.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True),
                list(new_rows.values()),
            ).scalars()
            proposal_ids.update(zip(new_rows, ids, strict=True))
        if existing:  # a letter changes its proposal (as models.touch_changed does)
            db.session.execute(
                update(Proposal.__table__)
                .where(Proposal.__table__.c.id.in_(sorted(set(existing.values()))))
                .values(updated_at=utcnow())
            )

        letters = []
        for (item, issuer, _), key in zip(plans, keys, strict=True):
            fields = letter_fields(item.name, item.digest, item.parsed)
            fields.update(
                status="imported",
                unit_id=_id(issuer),
                proposal_id=proposal_ids.get(key) if key is not None else None,
            )
            letters.append(fields)
        table = ReplyLetter.__table__
        letter_ids = list(
            db.session.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True), letters
            ).scalars()
        )

        logged = self._contacts_of(sorted(set(existing.values())))
        contact_rows, candidate_rows = [], []
        for (item, issuer, _), key, letter_id in zip(plans, keys, letter_ids, strict=True):
            unit_id = _id(issuer)
            proposal_id = proposal_ids.get(key) if key is not None else None
            if proposal_id is not None:
                contact_rows += self._contact_rows(
                    proposal_id,
                    unit_id,
                    item.parsed.contacts,
                    logged.setdefault(proposal_id, _ContactsOf()),
                )
            candidate_rows += commitments.candidate_rows(
                letter_id, item.parsed.commitments, proposal_id=proposal_id, unit_id=unit_id
            )
        bulk.insert_rows(db.session, ContactLog.__table__, contact_rows)
        bulk.insert_rows(db.session, Commitment.__table__, candidate_rows)
        indexing.note_letters(db.session, letter_ids)
        return [
            (letter_id, row["review_reason"], key if key not in existing else None)
            for letter_id, row, key in zip(letter_ids, letters, keys, strict=True)
        ]

    def _proposal_ids(self, keys: set[tuple]) -> dict[tuple, int]:
        """The ids of the proposals with these (session id, number) keys that exist."""
        if not keys:
            return {}
        found = {}
        ordered = sorted(keys)
        for start in range(0, len(ordered), 500):
            for row in db.session.execute(
                select(Proposal.id, Proposal.session_id, Proposal.number).where(
                    tuple_(Proposal.session_id, Proposal.number).in_(ordered[start : start + 500])
                )
            ):
                found[(row.session_id, row.number)] = row.id
        return found

    def apply(self, item: Parsed) -> Outcome:
        """The database part of importing one parsed file, inside a savepoint."""
        if item.error:
            return Outcome(item.label, "failed", item.error, fmt=item.fmt)
        if item.parsed is None:
            known = db.session.execute(
                select(ReplyLetter.id, ReplyLetter.needs_review, ReplyLetter.review_reason).where(
                    ReplyLetter.source_file == item.name
                )
            ).first()
            reason = (
                f"{STILL_FLAGGED}：{known.review_reason}" if known and known.needs_review else ""
            )
            return Outcome(
                item.label, "unchanged", reason, known.id if known else None, fmt=item.fmt
            )
        existing = None
        if self._known_files is None or item.name in self._known_files:
            existing = (
                db.session.execute(select(ReplyLetter).where(ReplyLetter.source_file == item.name))
                .scalars()
                .first()
            )
        if existing is None:
            legacy = self._legacy_letter(item)
            if legacy is not None:
                return Outcome(item.label, "unchanged", "", legacy.id, fmt=item.fmt)
        savepoint = db.session.begin_nested()
        try:
            letter, created = self._upsert(item.name, item.digest, item.parsed, existing)
            savepoint.commit()
        except Exception as error:  # a bad row: nothing of this file stays
            savepoint.rollback()
            self._forget()
            return Outcome(item.label, "failed", f"{type(error).__name__}: {error}", fmt=item.fmt)
        if self._known_files is not None:
            self._known_files.add(item.name)
        if letter.needs_review:
            return Outcome(item.label, "flagged", letter.review_reason or "", letter.id, item.fmt)
        status = "imported" if created else "updated"
        return Outcome(item.label, status, letter_id=letter.id, fmt=item.fmt)

    def _legacy_letter(self, item: Parsed) -> ReplyLetter | None:
        """The letter of these very bytes known by the member's own name: as an archive's
        members were known before their paths were (two members of one name in two folders
        were then one letter, the second overwriting the first), or a file of that name
        imported by itself. The member is that letter, unchanged; other bytes under that
        name are another letter, left alone."""
        legacy = reading.legacy_key(item.name)
        if legacy is None or (self._known_files is not None and legacy not in self._known_files):
            return None
        return (
            db.session.execute(
                select(ReplyLetter).where(
                    ReplyLetter.source_file == legacy, ReplyLetter.source_hash == item.digest
                )
            )
            .scalars()
            .first()
        )

    def _upsert(self, name: str, digest: str, parsed: ParsedLetter, existing: ReplyLetter | None):
        letter_on = iso_date(parsed.letter_date)
        year = letter_on.year if letter_on else None
        doc_number = parsed.doc_number
        if (
            existing is None
            and doc_number
            and (self._textless_numbers is None or doc_number in self._textless_numbers)
        ):
            # a reply recorded in the tracker (no text yet) gets its full text
            existing = (
                db.session.execute(
                    select(ReplyLetter).where(
                        ReplyLetter.doc_number == doc_number, ReplyLetter.source_file.is_(None)
                    )
                )
                .scalars()
                .first()
            )
        created = existing is None
        letter = existing or ReplyLetter(status="imported")
        issuer = self.unit(parsed.issuer)
        for co_unit in parsed.co_units:
            self.unit(co_unit)
        session = self.session(parsed.session, year)
        proposal = self._proposal(
            session,
            parsed.proposal_number,
            kind=parsed.proposal_kind,
            title=parsed.proposal_title or parsed.title,
            proposers=parsed.proposers,
            classification=parsed.classification,
        )

        for name_, value in letter_fields(name, digest, parsed).items():
            setattr(letter, name_, value)
        letter.unit = issuer if letter.unit_id is None else letter.unit
        if letter.status == "issued" and letter.disclosure in self._public:
            letter.status = "published"  # the imported page is the reply's publication
        if proposal is not None:
            letter.proposal = proposal
        if created:
            db.session.add(letter)
        new_proposal = proposal is not None and proposal.id is None
        db.session.flush()
        if proposal is not None:
            rows = self._contact_rows(
                proposal.id,
                issuer.id if issuer else None,
                parsed.contacts,
                _ContactsOf() if new_proposal else self._contacts_of([proposal.id])[proposal.id],
            )
            if rows:
                db.session.connection().execute(insert(ContactLog.__table__), rows)
        self._commitments(letter, proposal, issuer, parsed.commitments, created)
        return letter, created

    def _proposal(
        self,
        session: CongressSession | None,
        number: str | None,
        *,
        kind: str | None,
        title: str | None,
        proposers: list[str],
        classification: str | None,
    ) -> Proposal | None:
        if session is None or not number:
            return None
        if session.id is not None and (
            self._proposal_keys is None or (session.id, number) in self._proposal_keys
        ):
            found = db.session.execute(
                select(Proposal).where(Proposal.session_id == session.id, Proposal.number == number)
            ).scalar_one_or_none()
            if found is not None:
                return found
        proposal = Proposal(
            session=session, **proposal_fields(number, kind, title, proposers, classification)
        )
        db.session.add(proposal)
        if self._proposal_keys is not None:
            db.session.flush()
            self._proposal_keys.add((session.id, number))
        return proposal

    def _contacts_of(self, proposal_ids: list[int]) -> dict[int, _ContactsOf]:
        """The contacts these proposals have logged (one query)."""
        found = {pid: _ContactsOf() for pid in proposal_ids}
        if proposal_ids:
            for c in db.session.execute(
                select(
                    ContactLog.proposal_id,
                    ContactLog.contacted_on,
                    ContactLog.channel,
                    ContactLog.source,
                ).where(ContactLog.proposal_id.in_(proposal_ids))
            ):
                found[c.proposal_id].known.add((c.contacted_on, c.channel))
                if c.source != "letter":
                    found[c.proposal_id].logged_days.add(c.contacted_on)
        return found

    def _contact_rows(
        self, proposal_id: int, unit_id: int | None, contacts: list[dict], logged: _ContactsOf
    ) -> list[dict]:
        """The contact log's rows of the contacts a letter records, but those the proposal
        has (`logged`, which learns the new ones) and the days the clerk logged himself."""
        rows = []
        for contact in contacts:
            day = iso_date(contact.get("date"))
            if day is None or day in logged.logged_days:  # the clerk's own record wins
                continue
            for channel in contact.get("channels") or ["电话"]:
                code = CHANNEL_ALIASES.get(channel, channel)
                if code not in self._channels or (day, code) in logged.known:
                    continue
                logged.known.add((day, code))
                rows.append(
                    {
                        "proposal_id": proposal_id,
                        "unit_id": unit_id,
                        "contacted_on": day,
                        "channel": code,
                        "phase": "during",
                        "summary": "据答复函记载",
                        "source": "letter",
                        "round": 1,
                        "participants": "",
                        "created_at": utcnow(),
                    }
                )
        return rows

    def _commitments(
        self,
        letter: ReplyLetter,
        proposal: Proposal | None,
        unit: Unit | None,
        found: list[dict],
        created: bool,
    ) -> None:
        """Commitment candidates, replaced on re-import; confirmed ones are kept."""
        commitments.replace_candidates(
            letter.id,
            found,
            proposal_id=proposal.id if proposal else None,
            unit_id=unit.id if unit else None,
            fresh=created,
        )
        if not created:
            db.session.expire(letter, ["commitments"])


class _ContactsOf:
    """What a proposal's contact log has: (day, channel) pairs, and the days a clerk
    logged himself (the letter's contacts of those days are not added)."""

    def __init__(self) -> None:
        self.known: set[tuple] = set()
        self.logged_days: set = set()


def letter_fields(name: str, digest: str, parsed: ParsedLetter) -> dict:
    """What an imported file sets on its letter (a new one or the one it updates)."""
    reasons = review_reasons(parsed)
    return {
        "source_file": name,
        "source_hash": digest,
        "title": parsed.title,
        "issuer": parsed.issuer,
        "addressee": "、".join(parsed.proposers) or None,
        "proposal_kind": parsed.proposal_kind,
        "session_name": parsed.session,
        "proposal_number": parsed.proposal_number,
        "proposal_title": parsed.proposal_title,
        "proposers": parsed.proposers,
        "classification": parsed.classification,
        "doc_number": parsed.doc_number,
        "letter_on": iso_date(parsed.letter_date),
        "published_at": _datetime(parsed.published_at),
        "co_units": parsed.co_units,
        "contacts": parsed.contacts,
        "body": parsed.body,
        "sections": parsed.sections,
        "contact_person": parsed.contact_person,
        "contact_phone": parsed.contact_phone,
        "disclosure": disclosure_mode(parsed.disclosure),
        "cc": parsed.cc,
        "needs_review": bool(reasons),
        "review_reason": "；".join(reasons) or None,
    }


def proposal_fields(
    number: str,
    kind: str | None,
    title: str | None,
    proposers: list[str],
    classification: str | None,
) -> dict:
    """An archived, answered proposal that an imported letter makes (its session apart)."""
    kind = kind or "建议"
    return {
        "kind": kind,
        "number": number,
        "title": title or f"第{number}号{kind}",
        "lead_proposer": proposers[0] if proposers else "（未识别）",
        "proposer_kind": KIND_OF_PROPOSER.get(kind, "代表"),
        "co_signers": proposers[1:],
        "status": "closed",
        "classification": classification,
    }


def _id(row: Unit | CongressSession | None) -> int | None:
    """A cached row's id, without reading the row again when a commit has expired it."""
    if row is None:
        return None
    identity = inspect(row).identity
    return identity[0] if identity else row.id


def _batches(items: Iterable[Parsed], size: int) -> Iterator[list[Parsed]]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# What a reviewer is told about a flagged letter, by field.
FIELD_LABELS = {
    "session": "会议届次",
    "proposal_number": "建议/提案编号",
    "letter_date": "成文日期",
    "doc_number": "文号",
    "classification": "答复类别",
    "disclosure": "公开方式",
    "contact_person": "联系人",
    "contact_phone": "联系电话",
}
LINKING_FIELDS = ("session", "proposal_number")


def review_reasons(parsed: ParsedLetter) -> list[str]:
    """Why a letter needs a person: a field the letter prints that could not be read, or a
    field that linking the letter to its proposal needs and the letter does not print."""
    reasons = [f"{FIELD_LABELS[f]}：信中印有，未能识别" for f in parsed.unread if f in FIELD_LABELS]
    for field in LINKING_FIELDS:
        if getattr(parsed, field) is None and field not in parsed.unread:
            reasons.append(f"{FIELD_LABELS[field]}：信中未写明，关联建议/提案需要")
    return reasons


def _in_order(pool: ProcessPoolExecutor, jobs: Iterable[tuple], *, window: int) -> Iterator[Parsed]:
    """The pool's results in the jobs' order, with at most `window` jobs (and their bytes)
    in flight."""
    pending: deque = deque()
    for job in jobs:
        pending.append(pool.submit(reading.read_and_parse_job, job))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return None
    # a web page's 发布时间 is Beijing time; timestamps are stored in UTC
    return stamp.replace(tzinfo=BEIJING).astimezone(UTC) if stamp.tzinfo is None else stamp


REVIEW_DETAILS = (
    "letter_on",
    "doc_number",
    "classification",
    "disclosure",
    "contact_person",
    "contact_phone",
)


def review_queue() -> Select:
    """The letters a person must complete (答复检索 › 待审核), in the order they came in."""
    return select(ReplyLetter).where(ReplyLetter.needs_review.is_(True)).order_by(ReplyLetter.id)


def complete_review(
    actor,
    letter: ReplyLetter,
    *,
    session_name: str,
    year: int | None,
    kind: str,
    number: str,
    details: dict | None = None,
) -> Proposal:
    """A reviewer supplies what the parser could not read: the session and number, so the
    letter joins (or creates) its proposal and leaves the review queue, and any other field
    the letter prints (``details``: REVIEW_DETAILS; an empty value keeps what was read)."""
    from tracker.services import audit, permissions
    from tracker.services.errors import DomainError, PermissionDenied

    if not permissions.sees_all(actor):
        raise PermissionDenied()
    importer = Importer(ReadOptions())  # reads no file: only finds or makes the session
    session = importer.session(
        session_name.strip(), year or (letter.letter_on.year if letter.letter_on else None)
    )
    if session is None:
        raise DomainError("新的会议须填写年份。")
    db.session.flush()
    changed = []
    for name, value in (details or {}).items():
        if name not in REVIEW_DETAILS:
            raise ValueError(f"not a reviewable field: {name}")
        value = value.strip() if isinstance(value, str) else value
        if value and value != getattr(letter, name):
            setattr(letter, name, value)
            changed.append(name)
    proposal = importer._proposal(
        session,
        proposal_number(number),
        kind=kind,
        title=letter.proposal_title or letter.title,
        proposers=letter.proposers or [],
        classification=letter.classification,
    )
    letter.proposal = proposal
    letter.session_name = session.name
    letter.proposal_number = proposal_number(number)
    letter.proposal_kind = kind
    letter.needs_review = False
    letter.review_reason = None
    for commitment in letter.commitments:
        commitment.proposal = proposal
    db.session.flush()
    labels = {"letter_on": "成文日期", **FIELD_LABELS}
    audit.record(
        actor,
        "letter_review",
        f"补全答复函的会议和编号：{session.name}第{number}号"
        + (f"；更正：{'、'.join(labels[n] for n in changed)}" if changed else ""),
        proposal_id=proposal.id,
        entity="letter",
        entity_id=letter.id,
    )
    return proposal
