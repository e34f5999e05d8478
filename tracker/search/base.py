"""The search interface. Views, services and commands use only these types and the
`SearchEngine` protocol; the Whoosh engine (tracker.search.whoosh.engine) is the default
implementation, and nothing outside tracker.search.whoosh imports Whoosh."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from tracker.search import analysis

FACETS = ("year", "session", "kind", "issuer", "classification")


@dataclass(frozen=True)
class LetterDoc:
    """What the index holds of one reply letter (built from the database row)."""

    id: int
    title: str = ""
    proposal_title: str = ""
    body: str = ""
    proposers: tuple[str, ...] = ()
    issuer: str = ""
    doc_number: str = ""
    proposal_number: str = ""
    session: str = ""
    kind: str = ""  # 建议 / 提案 / 议案
    classification: str = ""
    letter_on: date | None = None
    source: str = ""  # imported file's name
    public: bool = False  # 主动公开 and published: shown to anonymous visitors
    restricted_unit_id: int | None = None  # 不予公开: only this unit (and see-all roles)

    @property
    def year(self) -> int | None:
        return self.letter_on.year if self.letter_on else None

    @staticmethod
    def texts(letter) -> dict:
        """The searched texts of a letter's row or of a parsed letter (the same attribute
        names), as LetterDoc's fields: one reading for the index and for an import's
        workers, which build the index rows ahead."""
        return {
            "title": letter.title or "",
            "proposal_title": letter.proposal_title or "",
            "body": letter.body or "",
            "proposers": tuple(letter.proposers or ()),
            "issuer": letter.issuer or "",
            "doc_number": letter.doc_number or "",
            "proposal_number": letter.proposal_number or "",
        }


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    filters: dict[str, str] = field(default_factory=dict)  # facet name -> value
    public_only: bool = False
    # None: every letter; otherwise restricted letters only of these units
    unit_ids: frozenset[int] | None = None
    sort: str = "relevance"  # relevance / date
    page: int = 1
    per_page: int = 20
    with_facets: bool = True


@dataclass(frozen=True)
class Hit:
    letter_id: int
    score: float
    title: str
    snippet: str  # HTML-safe: text escaped, matches wrapped in <mark>
    doc_number: str
    proposal_number: str
    issuer: str
    letter_on: date | None
    source: str
    classification: str = ""
    session: str = ""
    kind: str = ""


@dataclass
class SearchResult:
    total: int = 0
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    page: int = 1
    per_page: int = 20
    error: str | None = None  # a message for the user when the query could not be read
    terms: list[str] = field(default_factory=list)  # the words searched, after segmentation

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class SimilarHit:
    letter_id: int
    title: str
    score: float
    shared_terms: tuple[str, ...]
    issuer: str = ""
    letter_on: date | None = None
    doc_number: str = ""


class SearchEngine(Protocol):
    def index(self, docs: Iterable[LetterDoc]) -> int:
        """Add or replace these letters; returns how many were written."""

    def remove(self, letter_ids: Iterable[int]) -> int: ...

    def search(self, query: SearchQuery) -> SearchResult: ...

    def similar(
        self,
        text: str,
        *,
        limit: int = 5,
        exclude: Iterable[int] = (),
        public_only: bool = False,
        unit_ids: frozenset[int] | None = None,
    ) -> list[SimilarHit]:
        """The letters most like `text` (a letter's or proposal's title and body)."""

    def rebuild(self, docs: Iterable[LetterDoc]) -> int:
        """Drop everything and index these letters; returns the count."""

    def ids(self) -> set[int]:
        """Every letter id in the index (to compare with the database)."""

    def load(self) -> None:
        """Read now what the first search would (a worker warming up): the index's current
        generation; nothing where the index is the database."""

    def close(self) -> None: ...


# -- what every engine does with a query ----------------------------------------------------


def start(query: SearchQuery) -> tuple[SearchResult, analysis.ParsedQuery, dict[str, str]]:
    """The result to fill (page, size, the words searched, or the query's error), the
    parsed query and the facet filters in force."""
    page = max(1, int(query.page or 1))
    per_page = min(max(1, int(query.per_page or 20)), 1000)
    result = SearchResult(page=page, per_page=per_page)
    parsed = analysis.parse_query(query.text or "")
    result.terms = parsed.terms()
    filters = {
        k: str(v) for k, v in (query.filters or {}).items() if k in FACETS and v not in (None, "")
    }
    if parsed.error:
        result.error = parsed.error
    return result, parsed, filters


def facet_lists(counts: dict[str, Counter]) -> dict[str, list[tuple[str, int]]]:
    """Facet counts as shown: years newest first, the other facets most letters first;
    the letters without a value are not a value."""
    out: dict[str, list[tuple[str, int]]] = {}
    for name in FACETS:
        values = +Counter(counts.get(name, ()))
        values.pop("", None)
        if name == "year":
            out[name] = sorted(values.items(), reverse=True)
        else:
            out[name] = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
    return out
