"""The Whoosh search engine: the index folder, writing letters, answering searches.

The package's parts: ``schema`` (the fields, a letter's values, the index version),
``query`` (matching, scoring, facets: no Whoosh), ``w3`` (every use of Whoosh's internals,
with the public fallback), ``merges`` (the merge policy), ``helper`` (the second process of
large writes) and this module, which ties them to one index folder.

Index
    A Whoosh (whoosh-reloaded) index in the W3 format, of the fields ``schema`` describes.
    Merges are tiered (``merges``: ten segments of a size class become one) and read
    segments sequentially. Writing PARALLEL_MIN letters or more at once (an import batch, a
    rebuild) forks a helper process that takes half the letters, or the merge, so both
    cores work -- only when this process has no other thread.

Search
    A snapshot (``Snapshot``) is one searcher's generation: the per-document lists
    of each segment (read once per segment, from the ``meta`` column and the body lengths,
    and kept across generations) and its postings (``_Segments``, read through ``w3``).
    Matching and ranking are ``query``'s; only the page's hits are read from the stored
    fields, and snippets are made in plain Python (``snippets``).

Writing
    One writer at a time across processes (Whoosh's lock file); a writer that finds the lock
    taken retries for up to ``write_timeout`` seconds, then raises IndexBusyError (a
    TimeoutError). Searchers are reopened when another writer, in any process, has
    committed.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
import warnings
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import partial
from itertools import chain, islice
from pathlib import Path

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from whoosh import index, writing
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import LockError

from tracker.search import analysis, snippets
from tracker.search.base import Hit, LetterDoc, SearchQuery, SearchResult, SimilarHit, start
from tracker.search.whoosh import merges, w3
from tracker.search.whoosh.helper import Helper
from tracker.search.whoosh.query import (
    PAIRS,
    DocTable,
    Snapshot,
    key_terms,
    rank,
    similar_docs,
)
from tracker.search.whoosh.schema import (
    COMPATIBLE_VERSIONS,
    SCHEMA_VERSION,
    CountFormat,
    PairsField,
    WordsField,
    document_fields,
    make_schema,
)

# Every index written before the engine became a package pickled its schema's own classes
# as tracker.search.whoosh_engine.WordsField, .PairsField and .CountFormat; that name is
# this module (see whoosh_engine.py), so they must stay reachable here or no existing
# index opens.
PICKLED_BEFORE_THE_SPLIT = (CountFormat, PairsField, WordsField)

log = logging.getLogger(__name__)

PARALLEL_MIN = 200  # writing this many letters at once uses a second process
OPEN_ATTEMPTS = 20  # reads of the index when another process replaces its generation meanwhile


class IndexBusyError(TimeoutError):
    """Another writer held the index's write lock for longer than write_timeout."""


class _Segments:
    """``query.Postings`` of one searcher: its segments' postings, by global docnum."""

    def __init__(self, searcher) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.leaves = list(self.reader.leaf_readers())
        self.has_pairs = PAIRS in searcher.schema  # (not in an index of the previous version)
        self._finders: dict = {}

    def doc_count(self) -> int:
        return self.reader.doc_count()

    def field_length(self, field: str) -> int:
        return self.reader.field_length(field)

    def live(self) -> list[int]:
        return list(self.reader.all_doc_ids())

    def postings(self, field: str, term: str) -> tuple[list[int], list[float]]:
        tbytes = term.encode("utf-8")
        ids: list[int] = []
        ws: list[float] = []
        for leaf, offset in self.leaves:
            got = w3.term_postings(leaf, field, tbytes)
            if got is None:
                continue
            lids, lws = got
            ids += [d + offset for d in lids] if offset else lids
            ws += lws
        return ids, ws

    def doc_frequency(self, field: str, term: str) -> int:
        tbytes = term.encode("utf-8")
        return sum(w3.doc_frequency(leaf, field, tbytes) for leaf, _offset in self.leaves)

    def containing(self, needle: bytes, docs: set[int]) -> set[int]:
        out: set[int] = set()
        ordered = sorted(docs) if len(self.leaves) > 1 else None
        for leaf, offset in self.leaves:
            if ordered is not None:
                hi = offset + leaf.doc_count_all()
                mine = ordered[bisect_left(ordered, offset) : bisect_left(ordered, hi)]
            else:
                mine = docs
            if not mine:
                continue
            finder = self._finder(leaf)
            if finder is None:
                continue
            out.update(d for d in mine if finder(needle, d - offset))
        return out

    def _finder(self, leaf):
        """A function (needle, local docnum) -> bool over a segment's text column."""
        key = id(leaf)
        if key not in self._finders:
            self._finders[key] = w3.text_finder(leaf)
        return self._finders[key]


def _read_segment(leaf) -> DocTable:
    n = leaf.doc_count_all()
    meta = leaf.column_reader("meta", translate=False) if leaf.has_column("meta") else ()
    return DocTable.from_meta(meta, n, w3.body_lengths(leaf, n)).frozen()


def _snapshot(searcher, seg_cache: dict) -> Snapshot:
    """The snapshot of a searcher's generation; `seg_cache` keeps each segment's lists
    (by segment id) for the next generation."""
    source = _Segments(searcher)
    docs = DocTable.empty()
    used = {}
    for leaf, _offset in source.leaves:
        segment = leaf.segment() if hasattr(leaf, "segment") else None
        key = segment.segment_id() if segment is not None else id(leaf)
        seg = seg_cache.get(key) or _read_segment(leaf)
        used[key] = seg
        docs.extend(seg)
    seg_cache.clear()
    seg_cache.update(used)
    return Snapshot(source, docs.frozen())


def _read_again_if_replaced(read):
    """read() again when a file of the generation it reads is gone: another process's
    commit replaced the generation between listing the folder and reading it."""
    for attempt in range(OPEN_ATTEMPTS):
        try:
            return read()
        except FileNotFoundError:
            if attempt == OPEN_ATTEMPTS - 1:
                raise
            log.info("search index generation replaced while reading it; reading again")
            time.sleep(0.02 * (attempt + 1))


class WhooshEngine:
    """A Whoosh index of reply letters in `index_dir` (created when missing)."""

    def __init__(self, index_dir: str | Path, *, write_timeout: float = 30.0) -> None:
        self.index_dir = Path(index_dir)
        self.write_timeout = write_timeout
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._seg_cache: dict = {}
        self._ix = self._open_or_create()

    # -- opening ---------------------------------------------------------------------

    @contextmanager
    def _dir_lock(self) -> Iterator[None]:
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with open(self.index_dir / ".tracker-open.lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _open_or_create(self):
        """Open the index, or create it when it is missing, damaged or of a version this
        code cannot read. An index of a compatible earlier version (COMPATIBLE_VERSIONS) is
        used as it is: it answers every query correctly, more slowly (a string the letters
        segment differently is looked for in every letter), until a rebuild brings it up
        to date.

        A file of the generation being read that is gone is another process's commit, which
        replaced the generation between listing the folder and reading it (six processes
        starting while one approved a letter): read again, and taken for damage only when
        it stays gone (which recreated the index empty at once)."""
        try:
            return _read_again_if_replaced(self._open_or_create_once)
        except FileNotFoundError:  # gone for good: a damaged index (a rebuild refills it)
            log.exception("search index in %s unreadable; recreating", self.index_dir)
            return self._open_or_create_once(damaged=True)

    def _open_or_create_once(self, damaged: bool = False):
        marker = self.index_dir / ".tracker-schema"
        with self._dir_lock():
            storage = FileStorage(str(self.index_dir))
            if not damaged and index.exists(storage):
                version = marker.read_text().strip() if marker.exists() else ""
                if version == SCHEMA_VERSION or version in COMPATIBLE_VERSIONS:
                    try:
                        ix = index.open_dir(str(self.index_dir))
                    except FileNotFoundError:  # replaced meanwhile (see _open_or_create)
                        raise
                    except Exception:  # damaged: start again (a rebuild refills it)
                        log.exception("search index in %s unreadable; recreating", self.index_dir)
                    else:
                        if version != SCHEMA_VERSION:
                            log.warning(
                                "search index in %s is of version %s: searching works, "
                                "slowly for names inside longer words; run `tracker reindex` "
                                "to bring it up to date",
                                self.index_dir,
                                version,
                            )
                        return ix
                else:
                    log.warning(
                        "search index in %s has an older schema; recreating it "
                        "empty (run a rebuild)",
                        self.index_dir,
                    )
            ix = index.create_in(str(self.index_dir), make_schema())
            marker.write_text(SCHEMA_VERSION + "\n")
            return ix

    # -- writing ---------------------------------------------------------------------

    @contextmanager
    def _writer(self) -> Iterator[w3.FastWriter | w3.PublicWriter]:
        """The index's writer, waiting up to write_timeout for other writers."""
        with self._write_lock:
            try:
                writer = w3.open_writer(self._ix, timeout=self.write_timeout, delay=0.05)
            except LockError:
                raise IndexBusyError(
                    f"the search index in {self.index_dir} is locked by another writer "
                    f"(waited {self.write_timeout:g} s)"
                ) from None
            try:
                yield writer
            except BaseException:
                if not writer.is_closed:
                    writer.cancel()
                raise

    def index(self, docs: Iterable[LetterDoc]) -> int:
        latest: dict[int, LetterDoc] = {}
        for doc in docs:
            latest[doc.id] = doc
        if not latest:
            return 0
        with self._writer() as writer:
            for doc_id in self._present(latest):
                writer.delete_by_term("id", str(doc_id))
            self._add_all(writer, latest.values(), len(latest), clear=False)
        return len(latest)

    def _present(self, ids: Iterable[int]) -> list[int]:
        """Which of these letters the index holds. Called with the write lock held, so the
        snapshot is the latest commit. (Cheaper than asking every segment for every id.)"""
        with self._lock:
            by_id = self._current().by_id()
            return [i for i in ids if i in by_id]

    def remove(self, letter_ids: Iterable[int]) -> int:
        ids = {int(i) for i in letter_ids}
        if not ids:
            return 0
        removed = 0
        with self._writer() as writer:
            for i in self._present(ids):
                removed += writer.delete_by_term("id", str(i)) or 0
            writer.commit(merge=False)
        return removed

    def rebuild(self, docs: Iterable[LetterDoc]) -> int:
        it = iter(docs)
        head = list(islice(it, PARALLEL_MIN))
        seen: set[int] = set()

        def unique() -> Iterator[LetterDoc]:
            for doc in chain(head, it):
                if doc.id not in seen:
                    seen.add(doc.id)
                    yield doc

        with self._writer() as writer:
            writer.schema = make_schema()  # (an index of an earlier version is brought up to date)
            size = len(head) if len(head) < PARALLEL_MIN else PARALLEL_MIN
            self._add_all(writer, unique(), size, clear=True)
            with self._dir_lock():
                (self.index_dir / ".tracker-schema").write_text(SCHEMA_VERSION + "\n")
        return len(seen)

    def _add_all(self, writer, docs: Iterable[LetterDoc], size: int, *, clear: bool) -> None:
        """Add the letters and commit (after merging small segments, or dropping all the
        old ones if `clear`).

        With PARALLEL_MIN letters or more, a forked helper process shares the work (the
        machine has two cores and the work is CPU-bound Python): when segments are due
        for merging, it merges them while this process indexes the letters; otherwise it
        indexes every other letter into a segment of its own. Forking is done only when
        this process has a single thread (forking a threaded process can deadlock the
        child). Whoosh's public writer (``w3.INTERNALS`` off) does it all here."""
        parallel = (
            size >= PARALLEL_MIN and (os.cpu_count() or 1) > 1 and threading.active_count() == 1
        )
        pairs = PAIRS in writer.schema
        if not writer.fast:
            for doc in docs:
                writer.add_document(**document_fields(doc, pairs=pairs))
            max_merge = None if parallel else merges.SMALL_COMMIT_MERGE_MAX
            policy = partial(merges.merge_policy, max_docs=max_merge)
            writer.commit(mergetype=writing.CLEAR if clear else policy)
            return
        helper = Helper(self._ix, schema=writer.schema if clear else None) if parallel else None
        try:
            merging = [] if clear or helper is None else merges.select_merges(writer.segments)
            if merging:
                helper.merge(merging)
            for n, doc in enumerate(docs):
                if helper is not None and not merging and n % 2:
                    helper.send(doc)
                else:
                    writer.add_document(**document_fields(doc, pairs=pairs))
            if helper is not None:
                helper.flush()
            if merging:
                segments = [s for s in writer.segments if s not in merging]
                segments += writer.finish_segments(clear=True, merge=merges.merge_policy)
            else:  # (while the helper works)
                max_merge = None if helper else merges.SMALL_COMMIT_MERGE_MAX
                segments = writer.finish_segments(
                    clear=clear, merge=partial(merges.merge_policy, max_docs=max_merge)
                )
            if helper is not None:
                segments += helper.finish()
        except BaseException:
            if helper is not None:
                helper.abort()
            raise
        writer.commit_segments(segments)

    # -- reading ---------------------------------------------------------------------

    def _current(self) -> Snapshot:
        """The snapshot of the newest committed generation; call with self._lock held."""
        snap = self._snapshot
        if snap is None:
            searcher = _read_again_if_replaced(self._ix.searcher)
            snap = self._snapshot = _snapshot(searcher, self._seg_cache)
        elif not snap.source.searcher.up_to_date():
            # a new searcher rather than refresh(): whoosh's reader reuse can keep segments
            # that a CLEAR commit dropped; per-segment data are cached, so this is cheap
            searcher = _read_again_if_replaced(self._ix.searcher)
            snap.source.searcher.close()
            snap = self._snapshot = _snapshot(searcher, self._seg_cache)
        return snap

    def load(self) -> None:
        with self._lock:
            self._current()

    def ids(self) -> set[int]:
        with self._lock:
            snap = self._current()
            ids = snap.ids
            return {ids[d] for d in snap.live()}

    def close(self) -> None:
        with self._lock:
            if self._snapshot is not None:
                self._snapshot.source.searcher.close()
                self._snapshot = None
            self._seg_cache.clear()

    def __del__(self) -> None:  # an engine dropped without close() leaves no open files
        try:
            if self._snapshot is not None:
                self._snapshot.source.searcher.close()
                self._snapshot = None
        except Exception:
            pass

    # -- search ------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        result, parsed, filters = start(query)
        if result.error or (parsed.empty and not filters):
            return result
        with self._lock:
            snap = self._current()
            page = rank(snap, query, result, parsed, filters)
            items = parsed.highlight()
            searcher = snap.source.searcher
            for docnum, score in page:
                result.hits.append(self._hit(searcher.stored_fields(docnum)["doc"], score, items))
        return result

    @staticmethod
    def _hit(stored: tuple, score: float, items) -> Hit:
        (
            doc_id,
            title,
            doc_number,
            proposal_number,
            issuer,
            day,
            source,
            classification,
            session,
            kind,
            _ptitle,
            body,
        ) = stored
        return Hit(
            letter_id=doc_id,
            score=round(score, 4),
            title=title,
            snippet=snippets.make_snippet(body, items),
            doc_number=doc_number,
            proposal_number=proposal_number,
            issuer=issuer,
            letter_on=date.fromordinal(day) if day else None,
            source=source,
            classification=classification,
            session=session,
            kind=kind,
        )

    # -- similar -------------------------------------------------------------------------

    def key_terms(self, text: str, limit: int = 10) -> list[tuple[str, float]]:
        """The words that characterise `text` (see ``query.key_terms``)."""
        with self._lock:
            return key_terms(self._current(), text, limit)

    def similar(
        self,
        text: str,
        *,
        limit: int = 5,
        exclude: Iterable[int] = (),
        public_only: bool = False,
        unit_ids: frozenset[int] | None = None,
    ) -> list[SimilarHit]:
        terms = self.key_terms(text or "")
        if not terms or limit <= 0:
            return []
        with self._lock:
            snap = self._current()
            top = similar_docs(snap, terms, limit, exclude, public_only, unit_ids)
            out = []
            for docnum, score in top:
                (
                    doc_id,
                    title,
                    doc_number,
                    _pn,
                    issuer,
                    day,
                    _src,
                    _cls,
                    _sess,
                    _kind,
                    ptitle,
                    body,
                ) = snap.source.searcher.stored_fields(docnum)["doc"]
                hay = analysis.normalize(title + "\n" + ptitle + "\n" + body)
                shared = tuple(w for w, _ in terms if w in hay)[:6]
                out.append(
                    SimilarHit(
                        letter_id=doc_id,
                        title=title,
                        score=round(score, 4),
                        shared_terms=shared,
                        issuer=issuer,
                        letter_on=date.fromordinal(day) if day else None,
                        doc_number=doc_number,
                    )
                )
            return out
