"""Searching the reply letters as a given user may: the public sees published replies,
units see their own restricted replies, and nothing the database no longer holds is shown."""

from __future__ import annotations

import logging

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import load_only, selectinload

from tracker.extensions import db
from tracker.models import Proposal, ReplyLetter, User
from tracker.rules.labels import PUBLISHED_LETTER_STATUSES, SENT_LETTER_STATUSES
from tracker.search.base import (
    FACETS,
    Hit,
    SearchEngine,
    SearchQuery,
    SearchResult,
    SimilarHit,
)
from tracker.services import indexing, permissions
from tracker.services.dbstats import newest_letters_first, unindexed

log = logging.getLogger(__name__)


def _scope(user: User | None) -> dict:
    """public_only / unit_ids for this viewer (None: an anonymous visitor)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {"public_only": True, "unit_ids": frozenset()}
    if permissions.sees_all(user) or user.role == "liaison":
        return {"public_only": False, "unit_ids": None}
    return {"public_only": False, "unit_ids": frozenset({user.unit_id} if user.unit_id else ())}


def visible_letter(user: User | None, letter: ReplyLetter) -> bool:
    """May this viewer read this letter's page?"""
    scope = _scope(user)
    if letter.status not in SENT_LETTER_STATUSES:
        return (
            user is not None
            and getattr(user, "is_authenticated", False)
            and (permissions.sees_all(user) or letter.unit_id == user.unit_id)
        )
    if scope["public_only"]:
        return indexing.is_public(letter, indexing.public_disclosures(db.session))
    restricted = letter.disclosure in indexing.restricted_disclosures(db.session)
    return not restricted or scope["unit_ids"] is None or letter.unit_id in scope["unit_ids"]


def sent_letters_scope(user: User) -> ColumnElement[bool]:
    """WHERE clause: the sent letters this signed-in user may read (``visible_letter`` for
    sent letters, in SQL): every unrestricted one, restricted ones of their own unit."""
    scope = _scope(user)
    sent = ReplyLetter.status.in_(SENT_LETTER_STATUSES)
    if scope["unit_ids"] is None:
        return sent
    restricted = indexing.restricted_disclosures(db.session)
    return and_(
        sent,
        or_(
            ReplyLetter.disclosure.is_(None),
            ReplyLetter.disclosure.not_in(restricted),
            ReplyLetter.unit_id.in_(scope["unit_ids"]),
        ),
    )


def _existing(letter_ids: list[int], public_only: bool) -> set[int]:
    if not letter_ids:
        return set()
    rows = db.session.execute(
        select(ReplyLetter.id, ReplyLetter.status, ReplyLetter.disclosure).where(
            ReplyLetter.id.in_(letter_ids), ReplyLetter.status.in_(SENT_LETTER_STATUSES)
        )
    ).all()
    if not public_only:
        return {r.id for r in rows}
    public_codes = indexing.public_disclosures(db.session)
    return {
        r.id for r in rows if r.disclosure in public_codes and r.status in PUBLISHED_LETTER_STATUSES
    }


def run(
    text: str,
    *,
    engine: SearchEngine,
    user: User | None = None,
    operator: bool = True,
    filters: dict[str, str] | None = None,
    sort: str = "relevance",
    page: int = 1,
    per_page: int = 20,
    with_facets: bool = True,
) -> SearchResult:
    """Search the `engine`'s index. `operator=True` (the console) sees everything; otherwise
    `user` decides."""
    scope = {"public_only": False, "unit_ids": None} if operator else _scope(user)
    query = SearchQuery(
        text=text or "",
        filters={k: v for k, v in (filters or {}).items() if k in FACETS and v},
        sort=sort if sort in ("relevance", "date") else "relevance",
        page=max(1, page),
        per_page=per_page,
        with_facets=with_facets,
        **scope,
    )
    result = engine.search(query)
    known = _existing([h.letter_id for h in result.hits], scope["public_only"])
    if len(known) < len(result.hits):
        missing = [h.letter_id for h in result.hits if h.letter_id not in known]
        result.hits = [h for h in result.hits if h.letter_id in known]
        result.total = max(0, result.total - len(missing))
        log.warning("search returned letters not in the database: %s", missing)
    return result


def similar(
    text: str,
    *,
    engine: SearchEngine,
    user: User | None,
    exclude: tuple[int, ...] = (),
    limit: int = 5,
) -> list[SimilarHit]:
    scope = _scope(user)
    hits = engine.similar(text, limit=limit + 5, exclude=exclude, **scope)
    known = _existing([h.letter_id for h in hits], scope["public_only"])
    return [h for h in hits if h.letter_id in known][:limit]


def hit_json(hit: Hit) -> dict:
    return {
        "letter_id": hit.letter_id,
        "title": hit.title,
        "doc_number": hit.doc_number or None,
        "proposal_number": hit.proposal_number or None,
        "issuer": hit.issuer or None,
        "letter_date": hit.letter_on.isoformat() if hit.letter_on else None,
        "source": hit.source or None,
        "score": round(hit.score, 4),
        "snippet": hit.snippet,
    }


__all__ = ["hit_json", "run", "similar", "visible_letter"]


def recent_public(limit: int = 20) -> list[ReplyLetter]:
    """The latest published replies, for the public page before anyone searches: the
    newest first, those without a date last, read in the order of the (date, id) index
    with the filters checked on the way (most letters pass them, so a page reads a few
    dozen; sorted, the 70,000 published letters of the loadtest took 650 ms on SQLite)."""
    published = select(ReplyLetter).where(
        unindexed(ReplyLetter.disclosure).in_(indexing.public_disclosures(db.session)),
        unindexed(ReplyLetter.status).in_(PUBLISHED_LETTER_STATUSES),
    )
    return [row[0] for row in newest_letters_first(db.session, published, limit)]


# what an export and the visibility check read of a letter (not its body)
EXPORT_COLUMNS = (
    ReplyLetter.proposal_id,
    ReplyLetter.unit_id,
    ReplyLetter.status,
    ReplyLetter.title,
    ReplyLetter.issuer,
    ReplyLetter.proposal_kind,
    ReplyLetter.session_name,
    ReplyLetter.proposal_number,
    ReplyLetter.proposal_title,
    ReplyLetter.proposers,
    ReplyLetter.classification,
    ReplyLetter.doc_number,
    ReplyLetter.letter_on,
    ReplyLetter.disclosure,
)


def matching_letters(
    text: str,
    *,
    engine: SearchEngine,
    user: User,
    filters: dict[str, str],
    sort: str,
    limit: int,
    batch: int,
) -> list[ReplyLetter] | None:
    """Every letter the search finds that the user may read, in the search page's order, up
    to ``limit``, fetched ``batch`` hits at a time (the engine's largest page, so that up to
    that many the result is one ranking, never pages that could split tied scores); None
    when the query cannot be read (the page explains why)."""
    ids: list[int] = []
    seen: set[int] = set()
    scores: dict[int, float] = {}
    page = 1
    while len(ids) < limit:
        result = run(
            text,
            engine=engine,
            user=user,
            operator=False,
            filters=filters,
            sort=sort,
            page=page,
            per_page=batch,
            with_facets=False,
        )
        if result.error:
            return None
        for hit in result.hits:
            if hit.letter_id not in seen:
                seen.add(hit.letter_id)
                ids.append(hit.letter_id)
                scores[hit.letter_id] = hit.score
        if not result.hits or page * result.per_page >= result.total:
            break
        page += 1
    ids = ids[:limit]
    rows: dict[int, ReplyLetter] = {}
    for start in range(0, len(ids), 500):
        rows.update(
            (le.id, le)
            for le in db.session.execute(
                select(ReplyLetter)
                .where(ReplyLetter.id.in_(ids[start : start + 500]))
                .options(
                    load_only(*EXPORT_COLUMNS),
                    selectinload(ReplyLetter.unit),
                    selectinload(ReplyLetter.proposal).selectinload(Proposal.session),
                )
            ).scalars()
        )
    if sort != "date":
        # equal scores the newest first, as on a page: an engine that orders ties only
        # within a page (PostgreSQL's, by its index) may split them between two batches
        def tie_key(i: int) -> tuple:
            day = rows[i].letter_on if i in rows else None
            return (-scores[i], -(day.toordinal() if day else 0), -i)

        ids.sort(key=tie_key)
    # the index may lag the database by a commit: the database has the last word
    return [rows[i] for i in ids if i in rows and visible_letter(user, rows[i])]
