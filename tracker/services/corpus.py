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

from sqlalchemy import Select, insert, select

from tracker.extensions import db
from tracker.letters import reading
from tracker.letters.formats import ARCHIVES, FORMATS, MB, ReadOptions
from tracker.letters.parser import ParsedLetter
from tracker.letters.patterns import disclosure_mode
from tracker.letters.reading import Parsed, Source, read_and_parse
from tracker.models import (
    CongressSession,
    ContactLog,
    Proposal,
    ReplyLetter,
    Unit,
    utcnow,
)
from tracker.rules.clock import BEIJING, iso_date
from tracker.services import commitments, vocab

SUFFIXES = tuple(FORMATS) + tuple(ARCHIVES)
CHANNEL_ALIASES = {"视察": "视察调研", "调研": "视察调研", "见面": "面商", "座谈": "座谈会"}
KIND_OF_PROPOSER = {"建议": "代表", "议案": "代表", "提案": "委员"}
STATUSES = ("imported", "updated", "unchanged", "flagged", "failed")
STILL_FLAGGED = "仍待审核"  # an unchanged file whose letter still waits for review


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
    """Caches units and sessions across files; one instance per import run."""

    def __init__(self, options: ReadOptions) -> None:
        self.options = options
        self._units: dict[str, Unit] | None = None
        self._sessions: dict[str, CongressSession] = {}
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
        jobs = (
            (source, data, known.get(source.name), self.options)
            for source, data in reading.load(found, self.options)
        )
        # one process parses while this one writes: on two cores more workers only compete
        workers = workers if workers is not None else max(1, min(2, (os.cpu_count() or 1) - 1))
        if workers < 1 or len(found) < 200 or (os.cpu_count() or 1) < 2:
            for job in jobs:
                yield self.apply(read_and_parse(*job))
            return
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            for parsed in _in_order(pool, jobs, window=workers * 64):
                yield self.apply(parsed)

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
        savepoint = db.session.begin_nested()
        try:
            letter, created = self._upsert(item.name, item.digest, item.parsed, existing)
            savepoint.commit()
        except Exception as error:  # a bad row: nothing of this file stays
            savepoint.rollback()
            self._units = None
            self._sessions = {}
            return Outcome(item.label, "failed", f"{type(error).__name__}: {error}", fmt=item.fmt)
        if self._known_files is not None:
            self._known_files.add(item.name)
        if letter.needs_review:
            return Outcome(item.label, "flagged", letter.review_reason or "", letter.id, item.fmt)
        status = "imported" if created else "updated"
        return Outcome(item.label, status, letter_id=letter.id, fmt=item.fmt)

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

        letter.source_file = name
        letter.source_hash = digest
        letter.title = parsed.title
        letter.issuer = parsed.issuer
        letter.unit = issuer if letter.unit_id is None else letter.unit
        letter.addressee = "、".join(parsed.proposers) or None
        letter.proposal_kind = parsed.proposal_kind
        letter.session_name = parsed.session
        letter.proposal_number = parsed.proposal_number
        letter.proposal_title = parsed.proposal_title
        letter.proposers = parsed.proposers
        letter.classification = parsed.classification
        letter.doc_number = doc_number
        letter.letter_on = letter_on
        letter.published_at = _datetime(parsed.published_at)
        letter.co_units = parsed.co_units
        letter.contacts = parsed.contacts
        letter.body = parsed.body
        letter.sections = parsed.sections
        letter.contact_person = parsed.contact_person
        letter.contact_phone = parsed.contact_phone
        letter.disclosure = disclosure_mode(parsed.disclosure)
        letter.cc = parsed.cc
        if letter.status == "issued" and letter.disclosure in self._public:
            letter.status = "published"  # the imported page is the reply's publication
        reasons = review_reasons(parsed)
        letter.needs_review = bool(reasons)
        letter.review_reason = "；".join(reasons) or None
        if proposal is not None:
            letter.proposal = proposal
        if created:
            db.session.add(letter)
        new_proposal = proposal is not None and proposal.id is None
        db.session.flush()
        if proposal is not None:
            self._contacts(proposal, issuer, parsed.contacts, new_proposal)
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
        kind = kind or "建议"
        proposal = Proposal(
            session=session,
            kind=kind,
            number=number,
            title=title or f"第{number}号{kind}",
            lead_proposer=proposers[0] if proposers else "（未识别）",
            proposer_kind=KIND_OF_PROPOSER.get(kind, "代表"),
            co_signers=proposers[1:],
            status="closed",  # an archived, answered item
            classification=classification,
        )
        db.session.add(proposal)
        if self._proposal_keys is not None:
            db.session.flush()
            self._proposal_keys.add((session.id, number))
        return proposal

    def _contacts(
        self, proposal: Proposal, unit: Unit | None, contacts: list[dict], new_proposal: bool
    ) -> None:
        existing = (
            []
            if new_proposal
            else db.session.execute(
                select(ContactLog.contacted_on, ContactLog.channel, ContactLog.source).where(
                    ContactLog.proposal_id == proposal.id
                )
            ).all()
        )
        known = {(c.contacted_on, c.channel) for c in existing}
        logged_days = {c.contacted_on for c in existing if c.source != "letter"}
        rows = []
        for contact in contacts:
            day = iso_date(contact.get("date"))
            if day is None or day in logged_days:  # the clerk's own record of that day wins
                continue
            for channel in contact.get("channels") or ["电话"]:
                code = CHANNEL_ALIASES.get(channel, channel)
                if code not in self._channels or (day, code) in known:
                    continue
                known.add((day, code))
                rows.append(
                    {
                        "proposal_id": proposal.id,
                        "unit_id": unit.id if unit else None,
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
        if rows:
            db.session.connection().execute(insert(ContactLog.__table__), rows)

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
        number.strip(),
        kind=kind,
        title=letter.proposal_title or letter.title,
        proposers=letter.proposers or [],
        classification=letter.classification,
    )
    letter.proposal = proposal
    letter.session_name = session.name
    letter.proposal_number = number.strip()
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
