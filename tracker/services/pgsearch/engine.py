"""The PostgreSQL search engine: the index is a table of the application's database.

Writing
    ``write(connection, docs, removed)`` upserts the letters' rows on the connection it is
    given: the application calls it in the transaction that changes the letters (so no
    outbox is needed, and every worker and server sees a change as soon as it is
    committed). ``index``/``remove``/``rebuild`` do the same in transactions of their own.
    RUM indexes slowly one letter at a time (about 50 ms a letter here); inside ``bulk()``
    (an import), once many letters have been written, the RUM index is dropped and built
    again at the end, which is many times faster. A rebuild fills a new table and puts it in
    place of the old one in one short transaction: searches answer throughout.

Matching
    The query (``query.plan``) is one tsquery: words as lexemes, texts as chains of the
    fewest and rarest units that cover them. When every text's chain is exact, the tsquery
    decides; the few letters whose positions are incomplete (``document``), and every
    letter when a text is not exact (a document number: its punctuation is no unit), are
    candidates whose texts are looked for in Python, in their squeezed fields, as the
    Whoosh engine does.

Ranking
    With RUM, in the index: ``ORDER BY tsv <=> rank`` (ts_rank's measure with the field
    weights A title, B names and numbers, C body; ``rank`` is the query without phrases, as
    RUM ranks a phrase slowly), nothing else in the ORDER BY (the planner would read and
    sort every match); equal scores on a page the newest first. The letters with the text
    of a loose clause come first (a scan of their own), and past TITLE_FIRST_MIN matches so
    do those with a word in their titles (ts_rank would put them first; found by the words'
    marked lexemes, ``document.TITLE_MARK``): fewer letters to rank at a time. With GIN,
    within a bounded window: the RANK_WINDOW newest matching letters are ranked (reading
    their tsvectors), the rest follow by date.

Filters, visibility and facet counts are columns of the table; the counts of a query are
one GROUPING SETS over its matches (from the text index, without reading tsvectors), kept
in the process under the table's generation (``schema``: it changes with every committed
change of a letter, by any process or server) for the query's other pages and orders; so
are a text's similar letters, for the next visit of the page that shows them.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from tracker.search import analysis, snippets
from tracker.search.base import (
    FACETS,
    Hit,
    LetterDoc,
    SearchQuery,
    SearchResult,
    SimilarHit,
    facet_lists,
    start,
)
from tracker.search.postgres import document
from tracker.search.postgres.query import Plan, lexeme, plan
from tracker.services.pgsearch import schema

log = logging.getLogger(__name__)

T = schema.TABLE
RANK_WINDOW = 500  # GIN: the newest matches ranked by relevance (their tsvectors are read)
BULK_MIN = 200  # letters written inside bulk() before the RUM index is set aside
INDEX_CHECK_SECONDS = 5.0  # how long the kind of text index in place is taken as known
TITLE_FIRST_MIN = 10_000  # RUM: more matches than this rank those with the words in titles
SIMILAR_CANDIDATES = 100  # letters weighed for similarity
SIMILAR_WITH_ALL = 4  # times the letters asked for: enough with all the best terms
ESTIMATED_PAST = 20_000  # letters: their number for the word weights is the planner's estimate
KEY_WORDS_WEIGHED = 40  # a text's most frequent candidate words, of which its key terms
_DATE_ORDER = "letter_on DESC NULLS LAST, letter_id DESC"
# a read transaction's settings (see PostgresEngine._reading) and the table's state, in one
# round trip
READ_SETTINGS = (
    "SELECT set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true), "
    f"(SELECT generation FROM {schema.STATE}), (SELECT format FROM {schema.STATE})"
)
COUNTS_KEPT = 256  # queries whose counts each process keeps for the current generation
SIMILAR_KEPT = 256  # texts whose similar letters each process keeps for the current generation
_HIT_COLUMNS = (
    "letter_id, title, doc_number, proposal_number, issuer, letter_on, source, "
    "classification, session, kind, body"
)


@dataclass(frozen=True)
class _State:
    """The table's generation (it changes with every committed change of its rows) and the
    format of its rows (``schema.FORMAT``), as a read transaction's first statement saw."""

    generation: int | None
    format: int


class _Kept:
    """Answers that depend only on the letters (and on what was asked), each kept under the
    generation it was computed at: used again only while the letters are those it read (a
    change of any letter, committed by any process or server, is a new generation).

    A query's counts (total and facets): counting the letters of a word that most letters
    have is most of such a search's work (a word in all 100,000 letters: 100-170 ms of facet
    counts), and the same counts are asked again for each page of the results and each
    change of order. A text's similar letters: a proposal's page, its reply's draft and a
    letter's page show them, and a clerk comes back to those pages after every step of the
    work (each form sent redirects there): three statements, 10-15 ms of the server's time
    at 100,000 letters, for the same answer until a letter changes."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple):
        with self._lock:
            got = self._kept.get(key)
            if got is not None:
                self._kept.move_to_end(key)
            return got

    def put(self, key: tuple, value: object) -> None:
        generation = key[0]
        with self._lock:
            latest = next(reversed(self._kept), None)
            if latest is not None and latest[0] != generation:
                if latest[0] > generation:  # computed as a change committed: never asked again
                    return
                self._kept.clear()  # those of earlier generations are never asked again
            self._kept[key] = value
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def answer(self, key: tuple, compute: Callable[[], object]):
        """The answer kept for `key`, else `compute()`'s, kept (not when the generation,
        ``key[0]``, is unknown: a table without its state)."""
        if key[0] is None:
            return compute()
        got = self.get(key)
        if got is None:
            got = compute()
            self.put(key, got)
        return got

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


@dataclass
class _Found:
    """A letter matched outside the tsquery (its text looked for in Python)."""

    letter_id: int
    score: float
    first: bool
    dkey: tuple
    facets: tuple


class PostgresEngine:
    """Reply letters searched in PostgreSQL (the ``letter_search`` table of ``schema``)."""

    in_database = True  # written by write() in the application's transaction: no outbox
    # an import's worker processes build its letters' rows from the parsed letters
    # (tracker.services.corpus): a third of an import's time, taken off its writing process
    build_ahead = staticmethod(document.built_ahead)

    @staticmethod
    def keep_ahead(ahead: tuple) -> None:
        """A row built ahead (``build_ahead``), kept until its letter is written."""
        document.keep(*ahead)

    def __init__(
        self, engine: Engine, *, rum: bool | None = None, rank_window: int = RANK_WINDOW
    ) -> None:
        """`rum`: None, a RUM index when the extension can be had; False, GIN."""
        self.engine = engine
        self.rum = rum
        self.rank_window = rank_window
        self._lock = threading.Lock()
        self._ready = False
        self._kind: tuple[str | None, float] = (None, 0.0)
        self._rum_ops: bool | None = None
        self._local = threading.local()  # the bulk() state of this thread
        self._mce: tuple[dict[str, float], float] | None = None
        self._counts = _Kept(COUNTS_KEPT)
        self._similar = _Kept(SIMILAR_KEPT)

    # -- the table -----------------------------------------------------------------------

    def ensure(self) -> None:
        """Create the table and its text index when missing (a database made without the
        migrations, e.g. by ``db.create_all()``)."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            with self.engine.begin() as conn:
                if not schema.exists(conn):
                    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:t))"), {"t": T})
                    schema.create(conn, rum=self.rum)
                elif not schema.state_ready(conn):  # a table made by an earlier version
                    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:t))"), {"t": T})
                    schema.ensure_state(conn, format_=1)
                self._rum_ops = schema.rum_installed(conn)
            self._ready = True

    def text_index(self) -> str | None:
        """The text index in place ("rum", "gin", None), checked every few seconds."""
        kind, checked = self._kind
        now = time.monotonic()
        if now - checked > INDEX_CHECK_SECONDS:
            self.ensure()
            with self.engine.connect() as conn:
                kind = schema.text_index(conn)
                self._rum_ops = schema.rum_installed(conn)
            self._kind = (kind, now)
        return kind

    def repair(self) -> str | None:
        """Build the text index when it is missing (a bulk write that never ended) or is GIN
        where RUM can now be had (the extension installed since): the kind built, or None
        when the right one stands (``tracker init-db`` calls this)."""
        self.ensure()
        with self.engine.begin() as conn:
            wanted = "rum" if schema.install_rum(conn, self.rum) else "gin"
        self._forget_index()
        if self.text_index() == wanted:
            return None
        self._build_text_index()
        return wanted

    def outdated(self) -> bool:
        """Whether the table's rows are of an earlier format than this code writes (searched
        as they are, a common word more slowly, until a rebuild)."""
        self.ensure()
        with self.engine.connect() as conn:
            found = conn.execute(text(f"SELECT format FROM {schema.STATE}")).scalar()
        return found is not None and found < schema.FORMAT

    def _forget_index(self) -> None:
        """The index or the statistics changed: look again."""
        self._kind = (None, 0.0)
        self._mce = None

    # -- writing -------------------------------------------------------------------------

    @staticmethod
    def _row(doc: LetterDoc) -> dict:
        built = document.build(doc)

        def clean(value: str | None) -> str:
            return (value or "").replace("\x00", "")

        return {
            "letter_id": doc.id,
            "tsv": built.tsv,
            "complete": built.complete,
            "letter_on": doc.letter_on,
            "public": bool(doc.public),
            "restricted_unit_id": doc.restricted_unit_id,
            "year": str(doc.year) if doc.year else "",
            "session": clean(doc.session),
            "kind": clean(doc.kind),
            "issuer": clean(doc.issuer),
            "classification": clean(doc.classification),
            "title": clean(doc.title),
            "proposal_title": clean(doc.proposal_title),
            "body": clean(doc.body),
            "proposers": [clean(p) for p in doc.proposers],
            "proposal_number": clean(doc.proposal_number),
            "doc_number": clean(doc.doc_number),
            "source": clean(doc.source),
        }

    _UPSERT = (
        f"INSERT INTO {T} ({', '.join(schema.COLUMNS)}) VALUES ("
        + ", ".join("CAST(:tsv AS tsvector)" if c == "tsv" else f":{c}" for c in schema.COLUMNS)
        + ") ON CONFLICT (letter_id) DO UPDATE SET "
        # an unchanged tsvector keeps its stored value: no new entries in the text index
        + f"tsv = CASE WHEN {T}.tsv = EXCLUDED.tsv THEN {T}.tsv ELSE EXCLUDED.tsv END, "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in schema.COLUMNS[2:])
        + f" WHERE ({T}.*) IS DISTINCT FROM (EXCLUDED.*)"
    )

    def write(self, connection: Connection, docs: Iterable[LetterDoc], removed=()) -> int:
        """Add or replace these letters and remove those, on `connection` (in its
        transaction); returns how many were written or removed."""
        self.ensure()
        latest = {doc.id: doc for doc in docs}
        gone = sorted({int(i) for i in removed} - set(latest))
        count = 0
        if gone:
            count += connection.execute(
                text(f"DELETE FROM {T} WHERE letter_id = ANY(:ids)"), {"ids": gone}
            ).rowcount
        if latest:
            self._before_bulk_write(len(latest))
            connection.execute(text(self._UPSERT), [self._row(d) for d in latest.values()])
            count += len(latest)
        return count

    def index(self, docs: Iterable[LetterDoc]) -> int:
        written = 0
        it = iter(docs)
        while batch := list(islice(it, 500)):
            with self.engine.begin() as conn:
                written += self.write(conn, batch)
        return written

    def remove(self, letter_ids: Iterable[int]) -> int:
        ids = {int(i) for i in letter_ids}
        if not ids:
            return 0
        with self.engine.begin() as conn:
            return self.write(conn, (), ids)

    def ids(self) -> set[int]:
        self.ensure()
        with self.engine.connect() as conn:
            return set(conn.execute(text(f"SELECT letter_id FROM {T}")).scalars())

    def load(self) -> None:
        """Nothing to read ahead: the index is a table of the database."""

    def close(self) -> None:
        """Nothing to release: the database engine belongs to the application."""

    # -- bulk writing --------------------------------------------------------------------

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Many letters are about to be written (an import): once BULK_MIN of them and
        more than a fifth of the table have been, the RUM index is dropped; it is built
        again (without blocking writes) when the block ends."""
        if getattr(self._local, "bulk", None) is not None:  # nested: the outer block decides
            yield
            return
        state = self._local.bulk = {"written": 0, "dropped": False, "rows": None}
        try:
            yield
        finally:
            self._local.bulk = None
            if state["dropped"] is True:
                self._build_text_index()

    def _before_bulk_write(self, n: int) -> None:
        state = getattr(self._local, "bulk", None)
        if state is None or state["dropped"] is not False:
            return
        state["written"] += n
        if state["written"] < BULK_MIN or self.text_index() != "rum":
            return
        with self._autocommit() as conn:
            if state["rows"] is None:
                state["rows"] = conn.execute(text(f"SELECT count(*) FROM {T}")).scalar_one()
            if state["written"] * 5 < state["rows"]:
                return
            log.info("bulk write: the RUM index is set aside and built again at the end")
            conn.execute(text("SET lock_timeout = '10s'"))
            try:
                conn.execute(text(f"DROP INDEX IF EXISTS {schema.RUM_INDEX}"))
            except DBAPIError:  # a long transaction holds the table: index one by one
                log.warning("the RUM index could not be set aside; indexing letter by letter")
                state["dropped"] = None
                return
        state["dropped"] = True
        self._forget_index()

    @contextmanager
    def _autocommit(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    def _build_text_index(self) -> None:
        started = time.perf_counter()
        with self._autocommit() as conn:
            conn.execute(text("SET maintenance_work_mem = '256MB'"))
            kind = schema.create_text_index(conn, concurrently=True, rum=self.rum)
            conn.execute(text(f"ANALYZE {T}"))  # the common lexemes of the letters just added
        self._forget_index()
        log.info("%s index built in %.1f s", kind, time.perf_counter() - started)

    def rebuild(self, docs: Iterable[LetterDoc]) -> int:
        """Drop everything and index these letters: a new table is filled and indexed, then
        takes the old one's place; searches use the old one meanwhile, writes wait."""
        self.ensure()
        seen: set[int] = set()
        with self.engine.begin() as conn:
            conn.execute(text(f"LOCK TABLE {T} IN SHARE ROW EXCLUSIVE MODE"))
            conn.execute(text(f"DROP TABLE IF EXISTS {schema.BUILD}"))
            schema.create(conn, table=schema.BUILD, with_index=False)
            raw = conn.connection.driver_connection
            columns = ", ".join(schema.COLUMNS)
            with raw.cursor() as cur, cur.copy(f"COPY {schema.BUILD} ({columns}) FROM STDIN") as cp:
                for doc in docs:
                    if doc.id in seen:
                        continue
                    seen.add(doc.id)
                    row = self._row(doc)
                    cp.write_row([row[c] for c in schema.COLUMNS])
            conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            schema.create_text_index(conn, table=schema.BUILD, rum=self.rum)
            schema.take_place(conn)
        with self._autocommit() as conn:
            conn.execute(text(f"ANALYZE {T}"))
        self._forget_index()
        return len(seen)

    # -- reading -------------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A connection whose queries use the text index (a sequential scan would read
        every letter's tsvector), without JIT compilation: where a scan of the table is
        the only plan (a search by filters alone), turning it off only prices it ten
        billion higher, past jit_above_cost, and PostgreSQL then compiled the query each
        time (120-150 ms of a 40 ms facet count at 100,000 letters)."""
        self.ensure()
        with self.engine.connect() as conn, conn.begin():
            row = conn.execute(text(READ_SETTINGS)).one()
            yield conn, _State(row[2], row[3] or 1)

    def _rank_sql(self, param: str) -> str:
        """A letter's relevance to the tsquery :param (larger is better)."""
        if self._rum_ops:
            return f"(1.0 / (tsv <=> CAST(:{param} AS tsquery)))"
        return f"ts_rank(tsv, CAST(:{param} AS tsquery))"

    def search(self, query: SearchQuery) -> SearchResult:
        result, parsed, filters = start(query)
        if result.error or (parsed.empty and not filters):
            return result
        if any("\x00" in v for v in filters.values()):  # no stored value has it
            return result
        where = _Where(filters, query.public_only, query.unit_ids)
        by_date = parsed.empty or query.sort == "date"
        per_page = result.per_page
        first = (result.page - 1) * per_page
        with self._reading() as (conn, state):
            kind = self.text_index()
            if parsed.empty:
                run = _Run(self, conn, where, None, kind, state)
            else:
                common = self._common_lexemes(conn)
                p = plan(
                    parsed,
                    known=lambda word: self._has_word(conn, word),
                    cost=lambda lex: common.get(lex, 0.0),
                )
                run = _Run(self, conn, where, p, kind, state)
            # the counts depend on the letters (the generation), the words, the filters and
            # who asks; not on the page or the order
            key = (
                state.generation,
                query.text,
                tuple(sorted(filters.items())),
                query.public_only,
                None if query.unit_ids is None else tuple(sorted(query.unit_ids)),
                query.with_facets,
            )
            counted = self._counts.answer(key, lambda: run.counts(query.with_facets))
            run.total = counted[0]
            result.total = counted[0]
            result.facets = {name: list(values) for name, values in counted[1].items()}
            if first >= result.total:
                return result
            top = run.page(first, per_page, by_date)
            result.hits = self._hits(conn, top, parsed.highlight())
        return result

    def _has_word(self, conn: Connection, word: str) -> bool:
        """Whether some letter has the word (the statistics' common lexemes surely do; the
        others are looked up: a rare word's postings are short)."""
        if word in self._common_lexemes(conn):
            return True
        return bool(
            conn.execute(
                text(f"SELECT EXISTS (SELECT 1 FROM {T} WHERE tsv @@ CAST(:q AS tsquery))"),
                {"q": lexeme(word)},
            ).scalar()
        )

    def _hits(self, conn: Connection, top: list[tuple[int, float]], items) -> list[Hit]:
        if not top:
            return []
        rows = conn.execute(
            text(f"SELECT {_HIT_COLUMNS} FROM {T} WHERE letter_id = ANY(:ids)"),
            {"ids": [i for i, _ in top]},
        ).mappings()
        by_id = {r["letter_id"]: r for r in rows}
        hits = []
        for letter_id, score in top:
            r = by_id.get(letter_id)
            if r is None:  # removed since it was matched
                continue
            hits.append(
                Hit(
                    letter_id=letter_id,
                    score=round(score, 4),
                    title=r["title"],
                    snippet=snippets.make_snippet(r["body"], items),
                    doc_number=r["doc_number"],
                    proposal_number=r["proposal_number"],
                    issuer=r["issuer"],
                    letter_on=r["letter_on"],
                    source=r["source"],
                    classification=r["classification"],
                    session=r["session"],
                    kind=r["kind"],
                )
            )
        return hits

    # -- similar -------------------------------------------------------------------------

    def similar(
        self,
        text_: str,
        *,
        limit: int = 5,
        exclude: Iterable[int] = (),
        public_only: bool = False,
        unit_ids: frozenset[int] | None = None,
    ) -> list[SimilarHit]:
        """The letters with the most of the text's key terms (``analysis.key_terms``), each
        weighed by its weight, equal ones the newest first; candidates are the newest
        SIMILAR_CANDIDATES letters with all of the four best terms (when there are
        SIMILAR_WITH_ALL times `limit` of them), else also those with two of them, else with
        the best one. (The letters with two of the four are many more: for a proposal about
        幼儿园 at 100,000 letters 13,578, against 913 with all four. Those 913 in RUM's
        relevance order took 10 ms of each letter's and proposal's page, the newest 100 of
        them 1.8 ms; the score that orders the similar letters is the key terms' in either
        case, and where the letters with all four best terms are more than the hundred
        weighed the newest replies are the ones a clerk drafting a reply reads first.)
        The answer is kept under the table's generation (``_Kept``), per text and viewer."""
        if limit <= 0:
            return []
        excluded = tuple(sorted({int(i) for i in exclude}))  # read once: the key's and the query's
        with self._reading() as (conn, state):
            # the answer depends on the letters (the generation), the text (its digest: a
            # proposal's may have 20,000 characters) and who asks
            key = (
                state.generation,
                hashlib.blake2b((text_ or "").encode(), digest_size=16).digest(),
                limit,
                excluded,
                public_only,
                None if unit_ids is None else tuple(sorted(unit_ids)),
            )
            kept = self._similar.answer(
                key,
                lambda: tuple(
                    self._similar_now(conn, text_, limit, excluded, public_only, unit_ids)
                ),
            )
        return list(kept)

    def _similar_now(
        self,
        conn: Connection,
        text_: str,
        limit: int,
        exclude: Iterable[int],
        public_only: bool,
        unit_ids: frozenset[int] | None,
    ) -> list[SimilarHit]:
        counts = analysis.key_word_counts(text_ or "")
        if not counts:
            return []
        counts = Counter(dict(counts.most_common(KEY_WORDS_WEIGHED)))
        where = _Where({}, public_only, unit_ids)
        n = self._letter_count(conn)
        terms = analysis.key_terms(counts, self._doc_frequencies(conn, list(counts), n), n)
        if not terms:
            return []
        weights = {w: v / terms[0][1] for w, v in terms}
        best = [lexeme(w) for w, _ in terms[:4]]
        pairs = [f"{a} & {b}" for i, a in enumerate(best) for b in best[i + 1 :]]
        # (query, candidates that are enough to stop at)
        tiers = [(" & ".join(best), SIMILAR_WITH_ALL * limit)] if len(best) > 2 else []
        tiers += [(" | ".join(f"( {p} )" for p in pairs), limit)] if pairs else []
        tiers += [(best[0], limit)]
        candidates: list[int] = []
        for q, enough in tiers:
            candidates += self._similar_candidates(
                conn, q, where, [*exclude, *candidates], SIMILAR_CANDIDATES - len(candidates)
            )
            if len(candidates) >= enough:
                break
        if not candidates:
            return []
        has = ", ".join(f"x @@ CAST(:w{i} AS tsquery)" for i in range(len(weights)))
        # the tsvector read once a letter and its positions left out (a copy of half
        # the size, 4.0 against 5.8 ms for a hundred letters), then asked each word
        rows = conn.execute(
            text(
                f"SELECT letter_id, {has} FROM (SELECT letter_id, strip(tsv) AS x "
                f"FROM {T} WHERE letter_id = ANY(:ids) OFFSET 0) s"
            ),
            {"ids": candidates, **{f"w{i}": lexeme(w) for i, w in enumerate(weights)}},
        ).all()
        scores = {
            r[0]: sum(w for w, yes in zip(weights.values(), r[1:], strict=True) if yes)
            for r in rows
        }
        rank = {letter_id: i for i, letter_id in enumerate(candidates)}
        top = sorted(scores, key=lambda d: (-scores[d], rank[d]))[:limit]
        rows = conn.execute(
            text(
                f"SELECT letter_id, title, proposal_title, body, issuer, letter_on, "
                f"doc_number FROM {T} WHERE letter_id = ANY(:ids)"
            ),
            {"ids": top},
        ).mappings()
        by_id = {r["letter_id"]: r for r in rows}
        out = []
        for letter_id in top:
            r = by_id[letter_id]
            hay = analysis.normalize(r["title"] + "\n" + r["proposal_title"] + "\n" + r["body"])
            out.append(
                SimilarHit(
                    letter_id=letter_id,
                    title=r["title"],
                    score=round(scores[letter_id], 4),
                    shared_terms=tuple(w for w, _ in terms if w in hay)[:6],
                    issuer=r["issuer"],
                    letter_on=r["letter_on"],
                    doc_number=r["doc_number"],
                )
            )
        return out

    def _similar_candidates(
        self, conn: Connection, q: str, where: _Where, exclude: list[int], limit: int
    ) -> list[int]:
        params = {"q": q, "excluded": sorted({int(i) for i in exclude}), "n": limit}

        rows = conn.execute(
            text(
                f"SELECT letter_id FROM {T} WHERE tsv @@ CAST(:q AS tsquery) "
                f"AND NOT letter_id = ANY(:excluded){where.sql} ORDER BY {_DATE_ORDER} LIMIT :n"
            ),
            {**params, **where.params},
        )
        return list(rows.scalars())

    def _letter_count(self, conn: Connection) -> int:
        """How many letters the index holds, for the word weights: past ESTIMATED_PAST the
        planner's estimate (ANALYZE's, as are the common words' frequencies it scales; a
        count read every row's index entry, 7-14 ms of each letter and proposal page at
        100,000 letters), counted below that."""
        estimate = conn.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": T}
        ).scalar()
        if estimate is not None and estimate >= ESTIMATED_PAST:
            return int(estimate)
        return conn.execute(text(f"SELECT count(*) FROM {T}")).scalar_one()

    def _doc_frequencies(self, conn: Connection, words: list[str], n: int):
        """doc_frequency(word) for these words: the planner's statistics for the most
        common lexemes (estimates, good enough to leave out or weigh common words), exact
        counts for the others (rare, so cheap to count)."""
        common = self._common_lexemes(conn)
        exact = [w for w in words if w not in common]
        counts: dict[str, int] = {}
        if exact:
            # one subquery planned once for every word (a subquery each: 2.7 ms of planning
            # for eight words, the statement 7.4 against 5.4 ms)
            rows = conn.execute(
                text(
                    f"SELECT w, (SELECT count(*) FROM {T} WHERE tsv @@ CAST(w AS tsquery)) "
                    "FROM unnest(CAST(:words AS text[])) AS w"
                ),
                {"words": [lexeme(w) for w in exact]},
            )
            by_lexeme = dict(rows.all())
            counts = {w: by_lexeme[lexeme(w)] for w in exact}

        def doc_frequency(word: str) -> int:
            if word in counts:
                return counts[word]
            return max(1, round(common[word] * n))

        return doc_frequency

    def _common_lexemes(self, conn: Connection) -> dict[str, float]:
        """The most common lexemes and the share of letters that have them (ANALYZE's
        statistics, read every ten minutes)."""
        now = time.monotonic()
        if self._mce is not None and now - self._mce[1] < 600:
            return self._mce[0]
        row = conn.execute(
            text(
                "SELECT most_common_elems::text::text[], most_common_elem_freqs "
                "FROM pg_stats WHERE tablename = :t AND attname = 'tsv'"
            ),
            {"t": T},
        ).first()
        common: dict[str, float] = {}
        if row is not None and row[0]:
            common = dict(zip(row[0], row[1], strict=False))
        self._mce = (common, now)
        return common


# -- one query's matching -------------------------------------------------------------------


class _Where:
    """Filters and visibility as SQL (``sql`` starts with AND) and its parameters."""

    def __init__(
        self, filters: dict[str, str], public_only: bool, unit_ids: frozenset[int] | None
    ) -> None:
        parts = []
        self.params: dict = {}
        for name in FACETS:
            if name in filters:
                parts.append(f"{name} = :f_{name}")
                self.params[f"f_{name}"] = filters[name]
        if public_only:
            parts.append("public")
        if unit_ids is not None:
            parts.append("(restricted_unit_id IS NULL OR restricted_unit_id = ANY(:units))")
            self.params["units"] = sorted(unit_ids)
        self.sql = "".join(f" AND {p}" for p in parts)


class _Run:
    """The matches of one query: counted, and a page of them in order.

    Letters matched by the tsquery are counted and ordered in SQL; those whose texts must
    be read (``extra``) are matched in Python and merged in."""

    def __init__(
        self,
        engine: PostgresEngine,
        conn: Connection,
        where: _Where,
        p: Plan | None,
        kind,
        state: _State,
    ) -> None:
        self.engine = engine
        self.conn = conn
        self.state = state
        self.where = where
        self.plan = p
        self.kind = kind
        self.params = dict(where.params)
        self.extra: dict[int, _Found] = {}
        self.total = 0  # (known once counted)
        self.incomplete = False
        self.in_sql = True  # some letters are matched by the tsquery alone
        if p is None:  # no words: every letter the filters let through
            return
        self.params["q"] = p.tsquery()
        self.params["rank"] = p.rank()
        first = p.texts_first()
        if first is not None:
            self.params["first"] = first
            self.params["rank_first"] = p.rank_first()
            self.params["rest"] = f"( {p.tsquery()} ) & !( {first} )"
        self.incomplete = p.has_text and bool(
            conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {T} WHERE NOT complete)")).scalar()
        )
        if not p.exact:  # every candidate is read
            self.in_sql = False
            self.extra = self._verified(all_rows=True)
        elif self.incomplete:
            self.extra = self._verified(all_rows=False)

    def cond(self, param: str = "q") -> str:
        """The SQL condition of the letters the tsquery :param matches."""
        if self.plan is None:
            return "TRUE"
        return f"tsv @@ CAST(:{param} AS tsquery)" + (" AND complete" if self.incomplete else "")

    # -- counting --------------------------------------------------------------------------

    def counts(self, with_facets: bool) -> tuple[int, dict[str, list[tuple[str, int]]]]:
        counters = {name: Counter() for name in FACETS}
        total = 0
        if self.in_sql and with_facets:
            sets = ", ".join(f"({f})" for f in FACETS)
            grouping = ", ".join(FACETS)
            rows = self.conn.execute(
                text(
                    f"SELECT GROUPING({grouping}) AS g, {grouping}, count(*) AS n FROM {T} "
                    f"WHERE {self.cond()}{self.where.sql} GROUP BY GROUPING SETS ({sets})"
                ),
                self.params,
            ).all()
            full = (1 << len(FACETS)) - 1
            for row in rows:
                for i, name in enumerate(FACETS):  # the set grouped by this facet
                    if row.g == full ^ (1 << (len(FACETS) - 1 - i)):
                        counters[name][getattr(row, name)] += row.n
                        if i == 0:
                            total += row.n
        elif self.in_sql:
            total = self._count()
        for found in self.extra.values():
            total += 1
            for name, value in zip(FACETS, found.facets, strict=True):
                counters[name][value] += 1
        self.total = total
        return total, facet_lists(counters) if with_facets else {}

    def _count(self, param: str = "q") -> int:
        return self.conn.execute(
            text(f"SELECT count(*) FROM {T} WHERE {self.cond(param)}{self.where.sql}"),
            self.params,
        ).scalar_one()

    # -- ordering ------------------------------------------------------------------------

    def page(self, start: int, size: int, by_date: bool) -> list[tuple[int, float]]:
        """(letter_id, score) of the page, best first."""
        by_date = by_date or self.plan is None
        if not self.extra:
            rows = self._main(start, size, by_date)
            return [(r.letter_id, 0.0 if by_date else _score(r.rank, r.first)) for r in rows]
        keyed = [
            (r.first, r.rank, _dkey(r.letter_on, r.letter_id), r.letter_id)
            for r in (self._main(0, start + size, by_date) if self.in_sql else [])
        ]
        keyed += [(f.first, f.score, f.dkey, f.letter_id) for f in self.extra.values()]
        if by_date:
            keyed.sort(key=lambda t: t[2], reverse=True)
        else:
            keyed.sort(key=lambda t: (t[0], t[1], t[2]), reverse=True)
        return [
            (letter_id, 0.0 if by_date else _score(rank, first))
            for first, rank, _, letter_id in keyed[start : start + size]
        ]

    def _main(self, start: int, size: int, by_date: bool):
        """Rows (letter_id, letter_on, rank, first) of the letters the tsquery matches,
        in order, from `start`."""
        if by_date:
            return self._select("q", "0.0 AS rank, FALSE AS first", _DATE_ORDER, start, size)
        if self.kind == "rum":
            return self._ranked_in_index(start, size)
        return self._ranked_in_window(start, size)

    def _select(self, param: str, extra: str, order: str, start: int, size: int):
        return self.conn.execute(
            text(
                f"SELECT letter_id, letter_on, {extra} FROM {T} "
                f"WHERE {self.cond(param)}{self.where.sql} "
                f"ORDER BY {order} LIMIT :limit OFFSET :offset"
            ),
            {**self.params, "limit": size, "offset": start},
        ).all()

    def _in_index_order(self, param: str, first: bool, start: int, size: int):
        """The index's order alone (another key would make the planner read and sort every
        match); equal ranks on the page the newest first."""
        by = "rank_first" if first and "rank_first" in self.params else "rank"
        rank = self.engine._rank_sql(by)
        order = f"tsv <=> CAST(:{by} AS tsquery)"
        with ordered_scan(self.conn):
            rows = self._select(param, f"{rank} AS rank, {first} AS first", order, start, size)
        return sorted(rows, key=lambda r: (r.rank, _dkey(r.letter_on, r.letter_id)), reverse=True)

    def _ranked_in_index(self, start: int, size: int):
        """RUM: the letters with the loose clauses' texts, then the others, each in the
        index's order."""
        if "first" not in self.params:
            if self.total < TITLE_FIRST_MIN:
                return self._in_index_order("q", False, start, size)
            # very many: those with a word in their titles, which ts_rank puts first (A
            # weighs five times C), are ranked apart, the others only when paged to
            title = self.plan.in_titles(marked=self.state.format >= 2)
            self.params["first"] = f"( {self.params['q']} ) & ( {title} )"
            self.params["rest"] = f"( {self.params['q']} ) & !( {title} )"
            self.params["rank_first"] = self.params["rank"]
        rows = self._in_index_order("first", True, start, size)
        if len(rows) < size:  # past the letters with the texts: how many they are
            n_first = start + len(rows) if rows else self._count("first")
            rows += self._in_index_order("rest", False, max(0, start - n_first), size - len(rows))
        return rows

    def _ranked_in_window(self, start: int, size: int):
        """GIN (or no text index): the RANK_WINDOW newest matches ranked by relevance, then
        the others by date."""
        window = self.engine.rank_window
        rank = self.engine._rank_sql("rank")
        first = "tsv @@ CAST(:first AS tsquery)" if "first" in self.params else "FALSE"
        rows = []
        if start < window:
            rows += self.conn.execute(
                text(
                    f"WITH win AS MATERIALIZED (SELECT letter_id, letter_on, tsv FROM {T} "
                    f"WHERE {self.cond()}{self.where.sql} ORDER BY {_DATE_ORDER} "
                    "LIMIT :window) "
                    f"SELECT letter_id, letter_on, {rank} AS rank, {first} AS first FROM win "
                    f"ORDER BY first DESC, rank DESC, {_DATE_ORDER} LIMIT :limit OFFSET :offset"
                ),
                {
                    **self.params,
                    "window": window,
                    "limit": min(size, window - start),
                    "offset": start,
                },
            ).all()
        if len(rows) < size:
            more = size - len(rows)
            rows += self._select(
                "q", "0.0 AS rank, FALSE AS first", _DATE_ORDER, max(window, start), more
            )
        return rows

    # -- letters whose texts are read -----------------------------------------------------

    def _verified(self, *, all_rows: bool) -> dict[int, _Found]:
        """The letters the query matches among the candidates of its texts, each text
        looked for in the letter's squeezed fields (all letters, or those whose positions
        are incomplete)."""
        p = self.plan
        clauses = [c for g in p.groups for c in g] + p.excluded
        params = {**self.params, "cand": p.candidates()}
        word_cols = []
        for i, c in enumerate(clauses):
            if c.words:
                params[f"w{i}"] = c.words
                word_cols.append(f"tsv @@ CAST(:w{i} AS tsquery) AS w{i}")
        cols = ", ".join(
            [
                "letter_id, letter_on, title, proposal_title, issuer, proposers, "
                "proposal_number, doc_number, body",
                ", ".join(FACETS),
                f"{self.engine._rank_sql('cand')} AS rank",
                *word_cols,
            ]
        )
        rows = self.conn.execute(
            text(
                f"SELECT {cols} FROM {T} WHERE tsv @@ CAST(:cand AS tsquery)"
                f"{'' if all_rows else ' AND NOT complete'}{self.where.sql}"
            ),
            params,
            execution_options={"yield_per": 200},  # a server-side cursor: they may be many
        ).mappings()
        index = {id(c): i for i, c in enumerate(clauses)}
        out: dict[int, _Found] = {}
        for r in rows:
            squeezed = document.squeezed(
                LetterDoc(
                    id=r["letter_id"],
                    title=r["title"],
                    proposal_title=r["proposal_title"],
                    issuer=r["issuer"],
                    proposers=tuple(r["proposers"]),
                    proposal_number=r["proposal_number"],
                    doc_number=r["doc_number"],
                    body=r["body"],
                )
            )
            texts: dict[int, bool] = {}

            def has_text(c, squeezed=squeezed, texts=texts) -> bool:
                got = texts.get(id(c))
                if got is None:
                    got = texts[id(c)] = c.text is not None and c.text.needle in squeezed
                return got

            def matches(c, r=r, has_text=has_text) -> bool:
                if c.words and r[f"w{index[id(c)]}"]:
                    return True
                return has_text(c)

            if not all(any(matches(c) for c in g) for g in p.groups):
                continue
            if any(matches(c) for c in p.excluded):
                continue
            first = bool(p.loose_groups()) and all(
                any(has_text(c) for c in g) for g in p.loose_groups()
            )
            out[r["letter_id"]] = _Found(
                r["letter_id"],
                float(r["rank"] or 0.0),
                first,
                _dkey(r["letter_on"], r["letter_id"]),
                tuple(r[f] for f in FACETS),
            )
        return out


@contextmanager
def ordered_scan(conn: Connection) -> Iterator[None]:
    """Inside, the RUM index is read in its order (``ORDER BY tsv <=> query LIMIT n``): the
    planner would otherwise take a bitmap scan that reads and sorts every match."""
    conn.execute(text("SET LOCAL enable_bitmapscan = off"))
    try:
        yield
    finally:
        conn.execute(text("SET LOCAL enable_bitmapscan = on"))


def _dkey(day, letter_id: int) -> tuple:
    """The date order's key (newest first when sorted in reverse)."""
    return (day.toordinal() if day else 0, letter_id)


def _score(rank: float, first: bool) -> float:
    """A hit's score: the rank squeezed into (0, 1), plus 1 for the letters ranked first."""
    rank = max(0.0, float(rank or 0.0))
    if math.isinf(rank):
        rank = 1e9
    return rank / (1.0 + rank) + (1.0 if first else 0.0)
