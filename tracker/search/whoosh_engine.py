"""The Whoosh search engine (the only module that imports Whoosh).

Index
    A Whoosh (whoosh-reloaded) index in the W3 format. Word fields -- title,
    proposal_title, body, proposers, issuer and refs (proposal and document numbers) --
    hold the terms of ``analysis.analyse`` (jieba words and the sub-words inside them) with
    their frequencies; no positions. ``pairs`` holds the pairs of adjacent Han characters
    of the letter's text that are not among those terms (``analysis.bigrams``), presence
    only. ``text`` is a column with the letter's squeezed text (``analysis.squeeze``), where
    phrases and loose clauses are looked for; ``meta`` a column with what
    filters, facets, visibility and date order need, read once per index segment into
    Python lists. The stored ``doc`` tuple holds what a hit shows, and the body for
    snippets (Whoosh compresses stored fields).

    ``.tracker-schema`` names the index's version (SCHEMA_VERSION). An index of the
    previous version, without ``pairs``, is used as it is: it answers every query, a
    loose clause by reading every letter's text; a rebuild writes the current version.

    Whoosh's generic writer pushes every posting through a sorting pool and several Python
    calls (~90 letters/s here); ``_Writer`` gathers postings per term in dicts and writes
    each term's blocks in one go, in the W3 format (the files are standard W3 segments;
    block length statistics are left at 0, as only Whoosh's own pruning reads them).
    Merges are tiered (``select_merges``: ten segments of a size class become one) and
    read segments sequentially. Writing 200 letters or more at once (an import batch, a
    rebuild) forks a helper process that takes half the letters, or the merge, so both
    cores work -- only when this process has no other thread.

Search
    The posting blocks of the query's terms are read whole; the matching set comes from set
    operations (a word: union over the fields; AND/OR/exclusion; a phrase: the letters with
    its rarest character pairs, then a substring search in their texts, after the filters;
    a loose clause: the same, or all its words). A letter with the text of a loose clause
    ranks above those with its words apart, a word its segmentation cut otherwise scoring
    as if it were once in the body (``_clause_scores``). Filters, visibility and
    facet counts use the ``meta`` lists (counts of large sets by per-value bit masks).
    Relevance is BM25 over fields with boosts (title and proposal title 3, proposers and
    numbers 2, issuer 1.5, body 1), summed over the query's words; the top of the page is
    taken with a heap. Date order is a heap over a precomputed (date, id) key. Only the
    page's hits are read from the stored fields; snippets are made in plain Python
    (``snippets``). Postings, words' document sets and scores are cached per index
    generation (bounded; a commit starts afresh).

Writing
    One writer at a time across processes (Whoosh's lock file); a writer that finds the lock
    taken retries for up to ``write_timeout`` seconds, then raises IndexBusyError (a
    TimeoutError). Searchers are reopened when another writer, in any process, has
    committed.
"""

from __future__ import annotations

import fcntl
import heapq
import logging
import math
import mmap
import multiprocessing
import os
import queue
import struct
import threading
import warnings
import zlib
from bisect import bisect_left
from collections import Counter, OrderedDict, deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from hashlib import md5
from io import BytesIO
from itertools import accumulate, chain, islice, repeat
from pathlib import Path
from pickle import dumps as _dumps
from pickle import load as _load
from pickle import loads as _loads

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from whoosh import columns, formats, index, writing
    from whoosh import fields as wf
    from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC as _MAGIC
    from whoosh.codec.whoosh3 import W3Codec, W3TermInfo
    from whoosh.filedb.filestore import FileStorage
    from whoosh.filedb.filetables import md5_hash
    from whoosh.index import LockError
    from whoosh.reading import SegmentReader, TermNotFound
    from whoosh.system import pack_ushort
    from whoosh.util.numeric import byte_to_length

from tracker.search import analysis, snippets
from tracker.search.base import (
    FACETS,
    Hit,
    LetterDoc,
    SearchQuery,
    SearchResult,
    SimilarHit,
)

log = logging.getLogger(__name__)

SCHEMA_VERSION = "tracker-search-4"
# an index of these versions is read and written as it is (see WhooshEngine._open_or_create)
COMPATIBLE_VERSIONS = ("tracker-search-3",)
PAIRS = "pairs"  # the field of character pairs (tracker-search-4)
# field boosts (BM25F weights); the order is the order phrases are checked in
BOOSTS = {
    "title": 3.0,
    "proposal_title": 3.0,
    "proposers": 2.0,
    "refs": 2.0,
    "issuer": 1.5,
    "body": 1.0,
}
WORD_FIELDS = tuple(BOOSTS)
K1 = 1.2
B_BODY = 0.75  # length normalisation only for the body; the other fields are short
BLOCK = 128  # postings per block (Whoosh's default)
PARALLEL_MIN = 200  # writing this many letters at once uses a second process
FACET_MASK_MIN = 2000  # facet counts of this many documents or more use bit masks
NARROW_ENOUGH = 200  # a text's candidates: pairs are intersected until this few are left
VERIFY_MAX = 20_000  # more candidates with all the pairs of a Han text are taken unread


class IndexBusyError(TimeoutError):
    """Another writer held the index's write lock for longer than write_timeout."""


# -- schema -----------------------------------------------------------------------------


class CountFormat(formats.Format):
    """Postings with a frequency (as the weight) and no value."""

    posting_size = 0
    textual = True

    def __init__(self, field_boost: float = 1.0, **options):
        self.field_boost = field_boost
        self.options = options

    def word_values(self, value, analyzer, **kwargs):  # pragma: no cover - not used
        a = value if isinstance(value, analysis.Analysed) else analysis.analyse(value)
        for term, freq in a.terms.items():
            yield term, freq, float(freq), b""

    def decode_frequency(self, valuestring):  # pragma: no cover - not used
        return 1

    def decode_weight(self, valuestring):  # pragma: no cover - not used
        return 1.0


class WordsField(wf.FieldType):
    """Terms of ``analysis.analyse`` with frequencies; indexed from an ``Analysed``."""

    def __init__(self, whole: bool = False):
        self.format = CountFormat()
        self.analyzer = None
        self.scorable = True
        self.stored = False
        self.unique = False
        self.vector = None
        self.column_type = None
        self.whole = whole

    def index(self, value, **kwargs):
        a = (
            value
            if isinstance(value, analysis.Analysed)
            else analysis.analyse(value, whole=self.whole)
        )
        for term, freq in a.terms.items():
            yield term.encode("utf-8"), freq, float(freq), b""

    def process_text(self, qstring, mode="", **kwargs):
        return iter(analysis.main_words(qstring))

    def self_parsing(self):
        return False


class PairsField(WordsField):
    """The pairs of adjacent Han characters of a letter's text that are not among the terms
    of its word fields (``analysis.bigrams``); presence only: no frequencies, no lengths."""

    def __init__(self):
        super().__init__()
        self.scorable = False


def make_schema() -> wf.Schema:
    return wf.Schema(
        id=wf.ID(unique=True),
        title=WordsField(),
        proposal_title=WordsField(),
        body=WordsField(),
        proposers=WordsField(whole=True),
        issuer=WordsField(),
        refs=WordsField(whole=True),
        pairs=PairsField(),
        meta=wf.COLUMN(columns.VarBytesColumn()),
        text=wf.COLUMN(columns.VarBytesColumn()),
        doc=wf.STORED(),
    )


CODEC_ARGS = {"compression": 0}  # postings are small; zlib per block costs more than it saves


def _codec() -> W3Codec:
    return W3Codec(**CODEC_ARGS)


# -- the fast segment writer ------------------------------------------------------------------


class _Writer(writing.SegmentWriter):
    """A SegmentWriter that gathers postings per term and writes each term's blocks at once.

    Values for word fields are ``analysis.Analysed`` objects; ``id`` a string; ``meta``
    bytes; ``doc`` a tuple."""

    def __init__(self, ix, **kwargs):
        kwargs.setdefault("codec", _codec())
        kwargs.setdefault("compound", False)
        super().__init__(ix, **kwargs)
        self._post: dict[str, dict[str, tuple[list, list]]] = {}

    def add_document(self, **fields):
        self._check_state()
        docnum = self.docnum
        schema = self.schema
        pdw = self.perdocwriter
        pdw.start_doc(docnum)
        try:
            for name, value in fields.items():
                if value is None or name.startswith("_"):
                    continue
                fobj = schema[name]
                if isinstance(fobj, PairsField):  # presence only: no weights
                    fp = self._post.get(name)
                    if fp is None:
                        fp = self._post[name] = {}
                    get = fp.get
                    for term in value.terms:
                        rec = get(term)
                        if rec is None:
                            fp[term] = ([docnum], None)
                        else:
                            rec[0].append(docnum)
                elif isinstance(fobj, WordsField):
                    if not isinstance(value, analysis.Analysed):
                        value = analysis.analyse(value, whole=fobj.whole)
                    fp = self._post.get(name)
                    if fp is None:
                        fp = self._post[name] = {}
                    get = fp.get
                    for term, freq in value.terms.items():
                        rec = get(term)
                        if rec is None:
                            fp[term] = ([docnum], [freq])
                        else:
                            rec[0].append(docnum)
                            rec[1].append(freq)
                    if value.length:
                        pdw.add_field(name, fobj, None, value.length)
                elif fobj.indexed:  # the id
                    fp = self._post.setdefault(name, {})
                    rec = fp.get(value)
                    if rec is None:
                        fp[value] = ([docnum], [1])
                    else:
                        rec[0].append(docnum)
                        rec[1].append(1)
                elif fobj.column_type is not None:
                    pdw.add_column_value(name, fobj.column_type, fobj.to_column_value(value))
                elif fobj.stored:
                    pdw.add_field(name, fobj, value, 0)
        except Exception:
            pdw.cancel_doc()
            raise
        pdw.finish_doc()
        self._added = True
        self.docnum += 1

    def add_reader(self, reader):
        """Merge a segment (a merge policy calls this), through the same dicts."""
        self._check_state()
        basedoc = self.docnum
        schema = self.schema
        docmap = self.write_per_doc(set(schema.names()), reader)
        deleted = reader.deleted_docs_set if reader.has_deletions() else None
        presence = {name for name, fobj in schema.items() if isinstance(fobj, PairsField)}
        for name, btext, ids, weights in _segment_postings(reader):
            if name not in schema or not schema[name].indexed:
                continue
            if name in presence:
                weights = None
            if deleted:
                keep = [i for i, d in enumerate(ids) if d not in deleted]
                ids = [ids[i] for i in keep]
                weights = None if weights is None else [weights[i] for i in keep]
                if not ids:
                    continue
            ids = [docmap[d] for d in ids] if docmap is not None else [basedoc + d for d in ids]
            term = btext.decode("utf-8")
            fp = self._post.setdefault(name, {})
            rec = fp.get(term)
            if rec is None:
                fp[term] = (ids, weights)
            else:  # documents arrive in order, so appending keeps ids sorted
                rec[0].extend(ids)
                if weights is not None:
                    rec[1].extend(weights)
        self._added = True

    def _flush_segment(self):
        """Write the gathered postings: each term's blocks in one go, in Whoosh's W3
        format (what W3PostingsWriter and the term table's OrderedHashWriter would write,
        without their per-posting and per-term calls). Block and term length statistics
        are left at 0: they serve only Whoosh's block-quality pruning, which this engine
        does not use (it scores with its own BM25)."""
        self.perdocwriter.close()
        fw = self.fieldwriter
        schema = self.schema
        out = fw._postfile.file  # the raw files: StructFile adds a call per write
        write, tell = out.write, out.tell
        tindex = fw._tindex
        tout = tindex.dbfile.file
        twrite = tout.write
        tpos = tout.tell()
        positions = tindex.index
        buckets = tindex.buckets
        assert tindex.hashfn is md5_hash
        kv_pack, ti_pack = _KV_LENGTHS.pack, _TERMINFO.pack
        lastkey = tindex.lastkey
        for name in sorted(self._post):
            fw.start_field(name, schema[name])
            prefix = pack_ushort(fw._fieldid)
            fp = self._post[name]
            for term in sorted(fp):
                ids, weights = fp[term]
                start = tell()
                write(_encode_postings(ids, weights))
                n = len(ids)
                value = ti_pack(
                    0,
                    float(n if weights is None else sum(weights)),
                    n,
                    0,
                    0,
                    1.0 if weights is None else float(max(weights)),
                    ids[0],
                    ids[-1],
                    start,
                    tell() - start,
                )
                key = prefix + term.encode("utf-8")
                if key <= lastkey:
                    raise ValueError(f"terms out of order: {lastkey!r} .. {key!r}")
                lastkey = key
                positions.append(tpos)
                twrite(kv_pack(len(key), len(value)))
                twrite(key)
                twrite(value)
                h = int.from_bytes(md5(key, usedforsecurity=False).digest()[-4:], "big")
                buckets[h & 255].append((h, tpos))
                tpos += 8 + len(key) + len(value)
            tindex.lastkey = lastkey
            fw.finish_field()
        self._post.clear()
        fw.close()

    def finish_segments(self, *, clear: bool, max_merge: int | None = None) -> list:
        """Merge small segments into this one (or drop all the old ones if `clear`) and
        write it; returns the segments to commit."""
        self._check_state()
        final = [] if clear else merge_policy(self, self.segments, max_merge)
        if self._added:
            final.append(self._finalize_segment())
        else:
            self._close_segment()
        return final

    def commit_segments(self, segments: list) -> None:
        self._commit_toc(segments)
        self._finish()


MERGE_FACTOR = 10  # segments of one size class are merged when there are this many


def select_merges(segments: list, max_docs: int | None = None) -> list:
    """Tiered merging: segments are grouped by size class (1-9, 10-99, 100-999 …
    documents); a class with MERGE_FACTOR segments is merged, and so are segments with more
    than a third of their documents deleted. Each letter is thus rewritten about once per
    size class, not at every commit. With `max_docs`, merges of more documents than that
    are left for a later, larger commit (a web request's commit stays quick)."""
    classes: dict[int, list] = {}
    for seg in segments:
        n = max(1, seg.doc_count_all())
        classes.setdefault(int(math.log(n, MERGE_FACTOR) + 1e-9), []).append(seg)
    merge = []
    for size_class in sorted(classes):
        if len(classes[size_class]) >= MERGE_FACTOR:
            merge = classes[size_class]
            break
    merge += [
        s for s in segments if s not in merge and s.deleted_count() * 3 > max(1, s.doc_count_all())
    ]
    if max_docs is not None and sum(s.doc_count_all() for s in merge) > max_docs:
        merge = [s for s in merge if s.doc_count_all() <= max_docs // MERGE_FACTOR]
        if sum(s.doc_count_all() for s in merge) > max_docs or len(merge) < 2:
            merge = []
    return merge


def merge_into(writer, segments: list) -> None:
    for seg in segments:
        reader = SegmentReader(writer.storage, writer.schema, seg)
        try:
            writer.add_reader(reader)
        finally:
            reader.close()


SMALL_COMMIT_MERGE_MAX = 5000  # documents a commit without a helper process merges at most


def merge_policy(writer, segments: list, max_docs: int | None = None) -> list:
    """Merge the segments select_merges() picks into the writer's new segment; returns the
    others (a Whoosh merge policy)."""
    merge = select_merges(segments, max_docs)
    merge_into(writer, merge)
    return [s for s in segments if s not in merge]


_INT = struct.Struct("!i")


def _encode_postings(ids: list[int], weights: list | None) -> bytes:
    """A term's posting list in the W3 format: the magic number, then blocks of BLOCK
    postings, each [length, negative for the last][pickled info][pickled data] (`weights`
    None: 1 throughout, as for the character pairs)."""
    n = len(ids)
    parts = [_MAGIC]
    pack = _INT.pack
    for s in range(0, n, BLOCK):
        e = min(n, s + BLOCK)
        bids = ids if n <= BLOCK else ids[s:e]
        if weights is None:
            wv, top = None, 1
        else:
            bw = weights if n <= BLOCK else weights[s:e]
            first = bw[0]
            if bw.count(first) == len(bw):
                wv = None if first == 1 else float(first)
            else:
                wv = tuple(map(float, bw))
            top = max(bw)
        if len(bids) == 1:
            dids = (bids[0],)
        else:
            dids = (bids[0], *[b - a for a, b in zip(bids, bids[1:], strict=False)])
        data = _dumps((dids, wv, None), 2)
        info = _dumps((len(bids), bids[-1], top, 0, 0, 0), 2)
        size = len(info) + len(data)
        parts += (pack(-size if e == n else size), info, data)
    return b"".join(parts)


# W3TermInfo.to_bytes for postings not inlined: flags, weight, doc freq, min and max length
# bytes, max weight, first and last id ("!BfIBBfII"), then offset ("!q") and length ("!i")
_TERMINFO = struct.Struct("!BfIBBfIIqi")
_TERMINFO_BASE = struct.calcsize("!BfIBBfII")
_EXTENT = struct.Struct("!qi")
_KV_LENGTHS = struct.Struct("!ii")  # whoosh.filedb.filetables' key/value length header


def _parse_postings(raw) -> tuple[list[int], list[float]]:
    """Docnums and weights of one W3 posting list (the bytes at the term's extent:
    magic, then blocks of [length][pickled info][pickled data])."""
    ids: list[int] = []
    ws: list[float] = []
    pos = 4
    end = len(raw)
    while pos < end:
        (blen,) = _INT.unpack_from(raw, pos)
        pos += 4
        last = blen < 0
        if last:
            blen = -blen
        bio = BytesIO(raw[pos : pos + blen])
        info = _load(bio)
        count, compression = info[0], info[3]
        data = _loads(zlib.decompress(bio.read())) if compression else _load(bio)
        dids, wv = data[0], data[1]
        ids.extend(accumulate(dids))
        if wv is None:
            ws.extend([1.0] * count)
        elif isinstance(wv, float | int):
            ws.extend([float(wv)] * count)
        else:
            ws.extend(wv)
        pos += blen
        if last:
            break
    return ids, ws


def _term_postings(terms, terminfo) -> tuple[list[int], list[float]]:
    if terminfo.is_inlined():
        ids, ws, _ = terminfo.inlined_postings()
        return list(ids), [float(w) for w in ws]
    offset, length = terminfo.extent()
    if isinstance(length, tuple):  # W3TermInfo.from_bytes leaves it as unpack()'s tuple
        length = length[0]
    return _parse_postings(terms._postfile.get(offset, length))


def _segment_postings(reader) -> Iterator[tuple[str, bytes, list[int], list[float]]]:
    """Every (field, term, docnums, weights) of a segment, reading the term table and the
    postings file in order (no hash lookups, no seeks)."""
    terms = reader._terms
    table = terms._tindex
    data = table.dbfile.get(table.startofdata, table.endofdata - table.startofdata)
    postfile = terms._postfile
    postfile.seek(0)
    posts = postfile.read()
    names = terms._fieldunmap
    pos, end = 0, len(data)
    unpack = _KV_LENGTHS.unpack_from
    extent = _EXTENT.unpack_from
    base = _TERMINFO_BASE
    while pos < end:
        klen, vlen = unpack(data, pos)
        pos += 8
        key = data[pos : pos + klen]
        pos += klen
        value = data[pos : pos + vlen]
        pos += vlen
        if value[0]:  # inlined postings (not written by this engine)
            ids, ws = _term_postings(terms, W3TermInfo.from_bytes(value))
        else:
            offset, length = extent(value, base)
            ids, ws = _parse_postings(posts[offset : offset + length])
        yield names[(key[0] << 8) | key[1]], key[2:], ids, ws


def _text_finder(leaf):
    """needle, docnum -> whether the segment's ``text`` column value has the needle: a
    search in the memory-mapped column file, without copying the text."""
    if not leaf.has_column("text"):
        return None
    col = leaf.column_reader("text", translate=False)
    try:
        mm = mmap.mmap(col._dbfile.file.fileno(), 0, access=mmap.ACCESS_READ)
        base, offsets, lengths = col._basepos, col._offsets, col._lengths
        find = mm.find

        def finder(needle: bytes, docnum: int) -> bool:
            start = base + offsets[docnum]
            return find(needle, start, start + lengths[docnum]) >= 0

        finder.mmap = mm  # keep it alive as long as the finder
        return finder
    except (AttributeError, OSError, ValueError):  # not a plain file: read each value
        return lambda needle, docnum: needle in col[docnum]


# -- per-document data ------------------------------------------------------------------------

SEP = "\x1f"
_META_LEN = 4 + len(FACETS)


def _meta(doc: LetterDoc) -> bytes:
    day = doc.letter_on.toordinal() if doc.letter_on else 0
    values = [
        str(doc.id),
        str(day),
        "1" if doc.public else "0",
        "" if doc.restricted_unit_id is None else str(doc.restricted_unit_id),
        str(doc.year) if doc.year else "",
        doc.session or "",
        doc.kind or "",
        doc.issuer or "",
        doc.classification or "",
    ]
    return SEP.join(v.replace(SEP, " ") for v in values).encode("utf-8")


_LENGTHS = columns.NumericColumn("B", default=0)  # Whoosh's field-length column


@dataclass
class _SegData:
    ids: list[int]
    dkey: list[int]
    public: list[bool]
    unit: list[int | None]
    facets: dict[str, list[str]]
    body_len: list[int]


def _read_segment(leaf) -> _SegData:
    n = leaf.doc_count_all()
    ids: list[int] = []
    dkey: list[int] = []
    public: list[bool] = []
    unit: list[int | None] = []
    facet_lists: list[list[str]] = [[] for _ in FACETS]
    raw_values = leaf.column_reader("meta", translate=False) if leaf.has_column("meta") else ()
    blank = ["-1", "0", "0", ""] + [""] * len(FACETS)
    for raw in islice(raw_values, n):
        parts = raw.decode("utf-8").split(SEP) if raw else blank
        if len(parts) != _META_LEN:
            parts = blank
        doc_id = int(parts[0])
        ids.append(doc_id)
        dkey.append((int(parts[1]) << 32) + (doc_id & 0xFFFFFFFF))
        public.append(parts[2] == "1")
        unit.append(int(parts[3]) if parts[3] else None)
        for lst, v in zip(facet_lists, parts[4:], strict=True):
            lst.append(v)
    while len(ids) < n:
        ids.append(-1)
        dkey.append(0)
        public.append(False)
        unit.append(None)
        for lst in facet_lists:
            lst.append("")
    perdoc = getattr(leaf, "_perdoc", None)
    lens = perdoc._cached_reader("_body_len", _LENGTHS) if perdoc is not None else None
    body_len = [byte_to_length(b) for b in lens] if lens is not None else [0] * n
    return _SegData(
        ids,
        dkey,
        public,
        unit,
        dict(zip(FACETS, facet_lists, strict=True)),
        body_len[:n] + [0] * (n - len(body_len)),
    )


class _Bounded:
    """Cached sets and dicts, the oldest dropped past `limit` entries in all."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict = OrderedDict()
        self._size = 0

    def get(self, key):
        return self._items.get(key)

    def put(self, key, value) -> None:
        items = self._items
        items[key] = value
        self._size += len(value) + 1
        while self._size > self.limit and len(items) > 1:
            _, old = items.popitem(last=False)
            self._size -= len(old) + 1


class _Snapshot:
    """One searcher (one index generation) and per-document lists by global docnum."""

    # per-snapshot caches (a new commit starts new ones); sizes in documents, ~100 bytes each
    CACHE_POSTINGS = 1_000_000  # postings of (field, term)
    CACHE_WORDS = 600_000  # words' document sets and score dicts
    CACHE_PAIRS = 300_000  # character pairs' document sets (apart: they must not evict words)

    def __init__(self, searcher, seg_cache: dict) -> None:
        self.searcher = searcher
        self.has_pairs = PAIRS in searcher.schema  # (not in an index of the previous version)
        reader = searcher.reader()
        self.reader = reader
        self.leaves = list(reader.leaf_readers())
        self.ids: list[int] = []
        self.dkey: list[int] = []
        self.public: list[bool] = []
        self.unit: list[int | None] = []
        self.facets: dict[str, list[str]] = {f: [] for f in FACETS}
        body_len: list[int] = []
        used = {}
        for leaf, _offset in self.leaves:
            segment = leaf.segment() if hasattr(leaf, "segment") else None
            key = segment.segment_id() if segment is not None else id(leaf)
            seg = seg_cache.get(key) or _read_segment(leaf)
            used[key] = seg
            self.ids += seg.ids
            self.dkey += seg.dkey
            self.public += seg.public
            self.unit += seg.unit
            for f in FACETS:
                self.facets[f] += seg.facets[f]
            body_len += seg.body_len
        seg_cache.clear()
        seg_cache.update(used)
        self.n_all = len(self.ids)
        self.n_docs = max(1, reader.doc_count())
        self.avg_body = max(1.0, reader.field_length("body") / max(1, self.n_all))
        self.body_len = body_len
        self.norm_a = K1 * (1 - B_BODY)  # BM25's K1 * (1 - b + b * length / average)
        self.norm_b = K1 * B_BODY / self.avg_body
        self._live: list[int] | None = None
        self._by_id: dict[int, int] | None = None
        self._cache: OrderedDict = OrderedDict()
        self._cached = 0
        self._finders: dict = {}
        self._words = _Bounded(self.CACHE_WORDS)
        self._pairs = _Bounded(self.CACHE_PAIRS)
        self._df: dict[str, int] = {}
        self._masks: dict[str, dict[str, int] | None] = {}

    def facet_masks(self, name: str) -> dict[str, int] | None:
        """For each value of a facet, the int with byte d set to 1 where document d has it
        (None with more than 255 values)."""
        got = self._masks.get(name, 0)
        if got == 0:
            col = self.facets[name]
            values = sorted(set(col))
            got = None
            if len(values) <= 255:
                code = {v: i for i, v in enumerate(values)}
                codes = bytes(map(code.__getitem__, col))
                got = {}
                for i, v in enumerate(values):
                    table = bytes(1 if c == i else 0 for c in range(256))
                    got[v] = int.from_bytes(codes.translate(table), "little")
            self._masks[name] = got
        return got

    def live(self) -> list[int]:
        if self._live is None:
            self._live = list(self.reader.all_doc_ids())
        return self._live

    def by_id(self) -> dict[int, int]:
        if self._by_id is None:
            ids = self.ids
            self._by_id = {ids[d]: d for d in self.live()}
        return self._by_id

    def postings(self, field: str, term: str) -> tuple[list[int], list[float]]:
        """Global docnums and weights of a term in a field (deleted documents left out)."""
        key = (field, term)
        got = self._cache.get(key)
        if got is not None:
            self._cache.move_to_end(key)
            return got
        got = self._read_postings(field, term)
        self._cache[key] = got
        self._cached += len(got[0]) + 1
        while self._cached > self.CACHE_POSTINGS and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cached -= len(old[0]) + 1
        return got

    def _read_postings(self, field: str, term: str) -> tuple[list[int], list[float]]:
        tbytes = term.encode("utf-8")
        ids: list[int] = []
        ws: list[float] = []
        for leaf, offset in self.leaves:
            terms = getattr(leaf, "_terms", None)
            if terms is None:
                continue
            try:
                terminfo = terms.term_info(field, tbytes)
            except TermNotFound:
                continue
            lids, lws = _term_postings(terms, terminfo)
            deleted = leaf.deleted_docs_set if leaf.has_deletions() else None
            if deleted:
                pairs = [(d, w) for d, w in zip(lids, lws, strict=True) if d not in deleted]
                lids = [p[0] for p in pairs]
                lws = [p[1] for p in pairs]
            if offset:
                lids = [d + offset for d in lids]
            ids += lids
            ws += lws
        return ids, ws

    def word_docs(self, word: str) -> set[int]:
        """Documents with the word in any field."""
        key = ("docs", word)
        got = self._words.get(key)
        if got is None:
            got = set()
            for field in WORD_FIELDS:
                ids, _ = self.postings(field, word)
                got.update(ids)
            self._words.put(key, got)
        return got

    def word_scores(self, word: str) -> dict[int, float]:
        """The word's BM25F score in each document that has it (fields weighted by
        BOOSTS; length normalisation in the body only)."""
        key = ("scores", word)
        got = self._words.get(key)
        if got is not None:
            return got
        n = self.n_docs
        parts = []
        for field, boost in BOOSTS.items():
            ids, ws = self.postings(field, word)
            if ids:
                parts.append((len(ids), field, boost, ids, ws))
        parts.sort(reverse=True)  # the longest list (the body's) first
        out: dict[int, float] = {}
        lens, na, nb = self.body_len, self.norm_a, self.norm_b
        for i, (df, field, boost, ids, ws) in enumerate(parts):
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            c = boost * idf * (K1 + 1)
            body = field == "body"
            if i == 0:
                if body:
                    out = {d: c * w / (w + na + nb * lens[d]) for d, w in zip(ids, ws, strict=True)}
                else:
                    out = {d: c * w / (w + K1) for d, w in zip(ids, ws, strict=True)}
                continue
            get = out.get
            for d, w in zip(ids, ws, strict=True):
                out[d] = get(d, 0.0) + c * w / (w + (na + nb * lens[d] if body else K1))
        self._words.put(key, out)
        return out

    def pair_docs(self, pair: str) -> set[int]:
        """Documents whose text has these two characters in a row: the pair is one of their
        terms, or one of their character pairs."""
        got = self._pairs.get(pair)
        if got is None:
            got = self.word_docs(pair).union(self._read_postings(PAIRS, pair)[0])
            self._pairs.put(pair, got)
        return got

    def _pair_df(self, pair: str) -> int:
        """About how many documents have the pair (to read the rarest pairs first)."""
        tbytes = pair.encode("utf-8")
        df = 0
        for leaf, _offset in self.leaves:
            terms = getattr(leaf, "_terms", None)
            if terms is not None:
                for field in ("body", PAIRS):
                    with suppress(KeyError, TermNotFound):
                        df += terms.doc_frequency(field, tbytes)
        return df

    def text_candidates(self, text: str) -> tuple[set[int], bool, bool] | None:
        """The documents that may have `text` (squeezed and normalised), from its character
        pairs (None when it has none or the index has no pairs): the documents with its
        rarest pairs, intersected until few are left or the next pair is in many more
        letters than are left.
        Also whether they certainly have it (the text is one pair), and whether they have
        all its pairs and the pairs cover the text (so that they very likely have it)."""
        pairs = analysis.bigrams(text) if self.has_pairs else ()
        if not pairs:
            return None
        df = {pair: self._pair_df(pair) for pair in pairs}
        pairs = sorted(pairs, key=df.__getitem__)
        docs = self.pair_docs(pairs[0])
        used = 1
        for pair in pairs[1:]:
            if len(docs) <= NARROW_ENOUGH:
                break
            if len(docs) <= VERIFY_MAX and df[pair] > 4 * len(docs):
                break  # (reading the candidates' texts costs less than this pair's postings)
            docs = docs & self.pair_docs(pair)
            used += 1
        return docs, text == pairs[0], used == len(pairs) and analysis.only_han(text)

    def containing(self, needle: bytes, docs: set[int]) -> set[int]:
        """Of `docs`, those whose ``text`` column contains `needle`."""
        out: set[int] = set()
        if not needle or not docs:
            return out
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
        got = self._finders.get(key)
        if got is None:
            got = self._finders[key] = _text_finder(leaf)
        return got

    def doc_frequency(self, word: str) -> int:
        """In how many documents the word is in the body or the title (the larger)."""
        got = self._df.get(word)
        if got is None:
            tbytes = word.encode("utf-8")
            got = 0
            for field in ("body", "title"):
                df = 0
                for leaf, _offset in self.leaves:
                    terms = getattr(leaf, "_terms", None)
                    if terms is not None:
                        with suppress(KeyError, TermNotFound):
                            df += terms.doc_frequency(field, tbytes)
                got = max(got, df)
            if len(self._df) > 200_000:
                self._df.clear()
            self._df[word] = got
        return got


class _TextMatch:
    """How a phrase or a loose clause (see ``analysis``) matches: the documents with its
    text verbatim -- candidates from the index (the documents with the text's character
    pairs), then the text looked for in each candidate's squeezed text -- and, for a loose
    clause, also the documents with all its words anywhere."""

    def __init__(self, snap: _Snapshot, clause: analysis.Clause, words: set[int]) -> None:
        self.snap = snap
        self.needle = clause.needle
        self.words = set() if clause.phrase else words  # matches with the words apart
        found = snap.text_candidates(clause.text)
        self.paired = found is not None  # the candidates have (some of) the text's pairs
        if found is not None:
            self.candidates, self.sure, self.complete = found
        elif clause.phrase or snap.has_pairs:  # a text without pairs: its words' documents
            self.candidates, self.sure, self.complete = words, False, False
        else:  # an index of the previous version (no pairs): every letter is read
            self.candidates, self.sure, self.complete = set(snap.live()), False, False
        self.docs = self.candidates | self.words  # every document that may match
        self.exact: set[int] = set()  # the documents found with the text

    @classmethod
    def of(cls, snap: _Snapshot, clause: analysis.Clause, words: set[int]) -> _TextMatch | None:
        """The text match of a phrase, a loose clause or a word no letter has as a word;
        None for a clause matched by its words alone."""
        if clause.phrase or clause.loose:
            return cls(snap, clause, words)
        if not words and len(clause.words) == 1 and analysis.bigrams(clause.text):
            return cls(snap, clause, words)
        return None

    def verify(self, docs: set[int]) -> set[int]:
        """Of `docs` (some of ``self.docs``), those the clause matches; those with the text
        are added to ``exact``. Only the candidates without all the words of a loose clause
        are read: those with its words and its pairs are taken as having the text (it
        only lifts them above the letters with the words apart). When more than VERIFY_MAX
        letters have every pair of a Han text (a very common one), they are taken as having
        it, without reading them."""
        words = docs & self.words if self.words else set()
        todo = docs & self.candidates
        if todo and not self.sure and not (self.complete and len(self.candidates) > VERIFY_MAX):
            if self.paired and words:
                todo = (todo & words) | self.snap.containing(self.needle, todo - words)
            else:
                todo = self.snap.containing(self.needle, todo)
        self.exact = self.exact | todo if self.exact else todo
        return todo | words if words else todo


def _clause_scores(
    snap: _Snapshot, clause: analysis.Clause, docs: set[int], exact: set[int] = frozenset()
) -> dict[int, float]:
    """A clause's score in each of `docs` (which have all its words) and of `exact` (which
    have its text verbatim): the sum of its words' scores. In a document with the text, a
    word that the letter's segmentation cut otherwise counts as if it were once in the body,
    and the document scores above every one of `docs`, which have the words only apart."""
    dicts = [snap.word_scores(w) for w in clause.words]
    scores = _sums(dicts, docs)
    if not exact:
        return scores
    top = max(scores.values(), default=0.0)
    whole = exact  # those with every word, most of them
    for x in dicts:
        whole = whole & x.keys()
    scores.update(_sums(dicts, whole, top))
    n = snap.n_docs
    lens, na, nb = snap.body_len, snap.norm_a, snap.norm_b
    weights = []  # BM25 in the body: boost * idf * (K1 + 1)
    for word in clause.words:
        df = len(snap.word_docs(word))
        weights.append((K1 + 1) * math.log(1 + (n - df + 0.5) / (df + 0.5)))
    for d in exact - whole:  # tf 1: weight / (1 + K1 * (1 - b + b * length / average))
        once = 1.0 + na + nb * lens[d]
        scores[d] = top + sum(x.get(d) or w / once for x, w in zip(dicts, weights, strict=True))
    return scores


def _sums(dicts: list[dict[int, float]], docs, plus: float = 0.0) -> dict[int, float]:
    """For each of `docs` (which all the dicts have), `plus` and its values in the dicts."""
    first = dicts[0]
    out = {d: plus + first[d] for d in docs}
    for x in dicts[1:]:
        out = {d: v + x[d] for d, v in out.items()}
    return out


# -- the engine ---------------------------------------------------------------------------


class WhooshEngine:
    """A Whoosh index of reply letters in `index_dir` (created when missing)."""

    def __init__(self, index_dir: str | Path, *, write_timeout: float = 30.0) -> None:
        self.index_dir = Path(index_dir)
        self.write_timeout = write_timeout
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._snapshot: _Snapshot | None = None
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
        to date."""
        marker = self.index_dir / ".tracker-schema"
        with self._dir_lock():
            storage = FileStorage(str(self.index_dir))
            if index.exists(storage):
                version = marker.read_text().strip() if marker.exists() else ""
                if version == SCHEMA_VERSION or version in COMPATIBLE_VERSIONS:
                    try:
                        ix = index.open_dir(str(self.index_dir))
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
    def _writer(self) -> Iterator[_Writer]:
        """The index's writer, waiting up to write_timeout for other writers."""
        with self._write_lock:
            try:
                writer = _Writer(self._ix, timeout=self.write_timeout, delay=0.05)
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

    @staticmethod
    def _fields(doc: LetterDoc, *, pairs: bool = True) -> dict:
        """A document's fields; `pairs`: with the character pairs (an index of the
        previous version has no field for them)."""
        body = doc.body or ""
        stored = (
            doc.id,
            doc.title or "",
            doc.doc_number or "",
            doc.proposal_number or "",
            doc.issuer or "",
            doc.letter_on.toordinal() if doc.letter_on else 0,
            doc.source or "",
            doc.classification or "",
            doc.session or "",
            doc.kind or "",
            doc.proposal_title or "",
            body,  # Whoosh compresses stored fields (zlib)
        )
        texts = [
            doc.title,
            doc.proposal_title,
            body,
            doc.issuer,
            *doc.proposers,
            doc.proposal_number,
            doc.doc_number,
        ]
        squeezed = analysis.squeeze("\x00".join(t for t in texts if t))
        fields: dict = {
            "id": str(doc.id),
            "meta": _meta(doc),
            "doc": stored,
            "text": squeezed.encode("utf-8"),
        }
        for name, value in (
            ("title", doc.title),
            ("proposal_title", doc.proposal_title),
            ("body", body),
            ("issuer", doc.issuer),
        ):
            if value:
                fields[name] = analysis.analyse(value)
        proposers = [p for p in doc.proposers if p]
        if proposers:
            fields["proposers"] = analysis.analyse(proposers, whole=True)
        refs = [r for r in (doc.proposal_number, doc.doc_number) if r]
        if refs:
            fields["refs"] = analysis.analyse(refs, whole=True)
        if pairs:
            new = analysis.bigrams(squeezed).difference(
                *(fields[f].terms for f in WORD_FIELDS if f in fields)
            )
            if new:
                fields[PAIRS] = analysis.Analysed(dict.fromkeys(new, 1), 0)
        return fields

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

    def _add_all(
        self, writer: _Writer, docs: Iterable[LetterDoc], size: int, *, clear: bool
    ) -> None:
        """Add the letters and commit (after merging small segments, or dropping all the
        old ones if `clear`).

        With PARALLEL_MIN letters or more, a forked helper process shares the work (the
        machine has two cores and the work is CPU-bound Python): when segments are due
        for merging, it merges them while this process indexes the letters; otherwise it
        indexes every other letter into a segment of its own. Forking is done only when
        this process has a single thread (forking a threaded process can deadlock the
        child)."""
        helper = None
        if size >= PARALLEL_MIN and (os.cpu_count() or 1) > 1 and threading.active_count() == 1:
            helper = _Helper(self._ix, fresh=clear)
        try:
            merging = [] if clear or helper is None else select_merges(writer.segments)
            if merging:
                helper.merge(merging)
            pairs = PAIRS in writer.schema
            for n, doc in enumerate(docs):
                if helper is not None and not merging and n % 2:
                    helper.send(doc)
                else:
                    writer.add_document(**self._fields(doc, pairs=pairs))
            if helper is not None:
                helper.flush()
            if merging:
                writer.merge = False
                segments = [s for s in writer.segments if s not in merging]
                segments += writer.finish_segments(clear=True)
            else:  # (while the helper works)
                segments = writer.finish_segments(
                    clear=clear, max_merge=None if helper else SMALL_COMMIT_MERGE_MAX
                )
            if helper is not None:
                segments += helper.finish()
        except BaseException:
            if helper is not None:
                helper.abort()
            raise
        writer.commit_segments(segments)

    # -- reading ---------------------------------------------------------------------

    def _current(self) -> _Snapshot:
        """The snapshot of the newest committed generation; call with self._lock held."""
        snap = self._snapshot
        if snap is None:
            snap = self._snapshot = _Snapshot(self._ix.searcher(), self._seg_cache)
        elif not snap.searcher.up_to_date():
            # a new searcher rather than refresh(): whoosh's reader reuse can keep segments
            # that a CLEAR commit dropped; per-segment data are cached, so this is cheap
            searcher = self._ix.searcher()
            snap.searcher.close()
            snap = self._snapshot = _Snapshot(searcher, self._seg_cache)
        return snap

    def ids(self) -> set[int]:
        with self._lock:
            snap = self._current()
            ids = snap.ids
            return {ids[d] for d in snap.live()}

    def close(self) -> None:
        with self._lock:
            if self._snapshot is not None:
                self._snapshot.searcher.close()
                self._snapshot = None
            self._seg_cache.clear()

    def __del__(self) -> None:  # an engine dropped without close() leaves no open files
        try:
            if self._snapshot is not None:
                self._snapshot.searcher.close()
                self._snapshot = None
        except Exception:
            pass

    # -- matching --------------------------------------------------------------------

    def _match(
        self, snap: _Snapshot, parsed: analysis.ParsedQuery, scored: bool, allowed
    ) -> tuple[set[int], dict[int, float] | None]:
        """The matching documents, restricted by `allowed` (a predicate on docnums, or
        None), and their scores (None when not `scored`).

        Sets first (a word: its documents in any field; a clause: all its words, or for a
        phrase or a loose clause the candidates for its text, see _TextMatch; a group: any
        of its clauses; the query: all groups, less the excluded), then filters, then the
        texts are looked for in the documents still in the running; scores are computed
        only for the result."""
        word_sets: dict[int, set[int]] = {}
        texts: dict[int, _TextMatch | None] = {}

        def words_docs(clause: analysis.Clause) -> set[int]:
            got = word_sets.get(id(clause))
            if got is None:
                sets = sorted((snap.word_docs(w) for w in clause.words), key=len)
                got = set(sets[0]).intersection(*sets[1:]) if sets else set()
                word_sets[id(clause)] = got
            return got

        def text_match(clause: analysis.Clause) -> _TextMatch | None:
            if id(clause) not in texts:
                texts[id(clause)] = _TextMatch.of(snap, clause, words_docs(clause))
            return texts[id(clause)]

        def clause_docs(clause: analysis.Clause) -> set[int]:
            tm = text_match(clause)
            return words_docs(clause) if tm is None else tm.docs

        group_sets = []
        for group in parsed.groups:
            if len(group) == 1:
                group_sets.append(clause_docs(group[0]))
            else:
                group_sets.append(set().union(*(clause_docs(c) for c in group)))
        group_sets.sort(key=len)
        keys = set(group_sets[0]).intersection(*group_sets[1:])
        if allowed is not None and keys:
            keys = {d for d in keys if allowed(d)}
        for clause in parsed.excluded:
            if not keys:
                break
            out = keys & clause_docs(clause)
            tm = text_match(clause)
            if tm is not None and out:
                out = tm.verify(out)
            keys -= out
        # texts last: looked for only in the documents still in the running
        for group in parsed.groups:
            matches = [text_match(c) for c in group]
            if not keys or all(tm is None for tm in matches):
                continue
            valid: set[int] = set()
            for clause, tm in zip(group, matches, strict=True):
                cand = keys & clause_docs(clause)
                valid |= cand if tm is None else tm.verify(cand)
            keys = valid
        if not scored or not keys:
            return keys, None
        # score: the sum over groups of the best clause; a clause, the sum of its words
        if all(len(g) == 1 and texts[id(g[0])] is None for g in parsed.groups):
            dicts = [snap.word_scores(w) for group in parsed.groups for w in group[0].words]
            first = dicts[0]
            if len(dicts) == 1:
                return keys, (first if len(first) == len(keys) else {k: first[k] for k in keys})
            if len(dicts) == 2:
                second = dicts[1]
                return keys, {k: first[k] + second[k] for k in keys}
            acc = {k: first[k] for k in keys}
            for d in dicts[1:]:
                acc = {k: v + d[k] for k, v in acc.items()}
            return keys, acc
        parts = []
        for group in parsed.groups:
            alts = []
            for clause in group:
                tm = texts[id(clause)]
                if tm is None:
                    alts.append(_clause_scores(snap, clause, keys & words_docs(clause)))
                else:
                    exact = keys & tm.exact
                    apart = (keys & tm.words) - exact
                    alts.append(_clause_scores(snap, clause, apart, exact))
            parts.append(alts)
        if len(parts) == 1 and len(parts[0]) == 1:
            return keys, parts[0][0]
        out = {}
        for d in keys:
            total = 0.0
            for alts in parts:
                best = 0.0
                for scores in alts:
                    v = scores.get(d, 0.0)
                    if v > best:
                        best = v
                total += best
            out[d] = total
        return keys, out

    # -- search ------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        page = max(1, int(query.page or 1))
        per_page = min(max(1, int(query.per_page or 20)), 1000)
        result = SearchResult(page=page, per_page=per_page)
        parsed = analysis.parse_query(query.text or "")
        result.terms = parsed.terms()
        filters = {
            k: str(v)
            for k, v in (query.filters or {}).items()
            if k in FACETS and v not in (None, "")
        }
        if parsed.error:
            result.error = parsed.error
            return result
        if parsed.empty and not filters:
            return result
        by_date = parsed.empty or query.sort == "date"
        with self._lock:
            snap = self._current()
            allowed = self._allowed(snap, filters, query.public_only, query.unit_ids)
            if parsed.empty:
                live = snap.live()
                keys = [d for d in live if allowed(d)] if allowed is not None else live
                score = None
            else:
                keys, score = self._match(snap, parsed, not by_date, allowed)
            result.total = len(keys)
            if query.with_facets:
                result.facets = self._facet_counts(snap, keys)
            start, want = (page - 1) * per_page, page * per_page
            if start >= len(keys):
                return result
            if score is None:
                top = heapq.nlargest(want, keys, key=snap.dkey.__getitem__)
            else:
                dkey = snap.dkey  # equal scores: the newest first, the same on every page
                top = heapq.nlargest(want, keys, key=lambda d: (score[d], dkey[d]))
            items = parsed.highlight()
            searcher = snap.searcher
            for docnum in top[start:want]:
                result.hits.append(
                    self._hit(
                        searcher.stored_fields(docnum)["doc"],
                        score[docnum] if score else 0.0,
                        items,
                    )
                )
        return result

    @staticmethod
    def _allowed(
        snap: _Snapshot, filters: dict[str, str], public_only: bool, unit_ids: frozenset[int] | None
    ):
        """A predicate on docnums for the facet filters and visibility, or None."""
        tests = []
        for name, value in filters.items():
            col = snap.facets[name]
            tests.append(lambda d, col=col, value=value: col[d] == value)
        if public_only:
            public = snap.public
            tests.append(public.__getitem__)
        if unit_ids is not None:
            unit = snap.unit
            units = frozenset(unit_ids)
            tests.append(lambda d: unit[d] is None or unit[d] in units)
        if not tests:
            return None
        if len(tests) == 1:
            return tests[0]
        return lambda d: all(t(d) for t in tests)

    @staticmethod
    def _facet_counts(snap: _Snapshot, docs) -> dict[str, list[tuple[str, int]]]:
        out: dict[str, list[tuple[str, int]]] = {}
        matched = None
        if len(docs) >= FACET_MASK_MIN:  # a byte a document, as one big int
            flags = bytearray(snap.n_all)
            deque(map(flags.__setitem__, docs, repeat(1)), maxlen=0)
            matched = int.from_bytes(flags, "little")
        for name in FACETS:
            masks = snap.facet_masks(name) if matched is not None else None
            if masks is not None:
                counts = Counter({v: (matched & m).bit_count() for v, m in masks.items()})
                counts = +counts  # drop the zeros
            else:
                counts = Counter(map(snap.facets[name].__getitem__, docs))
            counts.pop("", None)
            if name == "year":
                out[name] = sorted(counts.items(), reverse=True)
            else:
                out[name] = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return out

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
        """The words that characterise `text`: frequent in it, rare in the index (a
        long text's words must occur twice, so that a name or a number mentioned once does
        not count)."""
        with self._lock:
            snap = self._current()
            n = snap.n_docs
            words = [
                w
                for w in analysis.main_words(text or "")
                if len(w) >= 2
                and not w.isdigit()
                and w not in STOP_WORDS
                and not (w.isascii() and len(w) < 3)
            ]
            tf = Counter(words)
            min_tf = 2 if len(words) >= 300 else 1
            scored = []
            for word, freq in tf.items():
                if freq < min_tf:
                    continue
                df = snap.doc_frequency(word)
                if df == 0 or (n >= 20 and df > 0.3 * n):
                    continue
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                scored.append((word, (1 + math.log(freq)) * idf))
            scored.sort(key=lambda kv: (-kv[1], kv[0]))
            return scored[:limit]

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
        top_weight = terms[0][1]
        with self._lock:
            snap = self._current()
            allowed = self._allowed(snap, {}, public_only, unit_ids)
            by_id = snap.by_id()
            excluded = {by_id[i] for i in exclude if i in by_id}
            scores: dict[int, float] = {}
            for word, weight in terms:  # an OR query, each word weighted by its weight
                q = weight / top_weight
                get = scores.get
                for d, v in snap.word_scores(word).items():
                    scores[d] = get(d, 0.0) + q * v
            for d in excluded:
                scores.pop(d, None)
            cands = scores if allowed is None else (d for d in scores if allowed(d))
            top = heapq.nlargest(limit, cands, key=scores.__getitem__)
            out = []
            for docnum in top:
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
                ) = snap.searcher.stored_fields(docnum)["doc"]
                hay = analysis.normalize(title + "\n" + ptitle + "\n" + body)
                shared = tuple(w for w, _ in terms if w in hay)[:6]
                out.append(
                    SimilarHit(
                        letter_id=doc_id,
                        title=title,
                        score=round(scores[docnum], 4),
                        shared_terms=shared,
                        issuer=issuer,
                        letter_on=date.fromordinal(day) if day else None,
                        doc_number=doc_number,
                    )
                )
            return out


# -- a helper process for rebuilds ---------------------------------------------------------


def _helper_main(index_dir: str, inbox, outbox, fresh: bool) -> None:  # pragma: no cover
    try:
        ix = index.open_dir(index_dir)
        writer = _Writer(ix, _lk=False)
        if fresh:  # a rebuild: the segment has the current schema, as the main writer's
            writer.schema = make_schema()
        while True:
            batch = inbox.get()
            if batch is None:
                break
            if isinstance(batch, tuple):  # ("merge", segments)
                merge_into(writer, batch[1])
                continue
            pairs = PAIRS in writer.schema
            for doc in batch:
                writer.add_document(**WhooshEngine._fields(doc, pairs=pairs))
        # (the temporary folder is shared with the main writer, which removes it)
        segments = [writer._finalize_segment()] if writer._added else []
        if not writer._added:
            writer._close_segment()
        outbox.put(("ok", segments))
    except BaseException as exc:
        outbox.put(("error", repr(exc)))


class _Helper:
    """A second process that writes a segment of its own (letters, or merged segments)
    while the main writer holds the lock; the main writer commits both segments."""

    BATCH = 8

    def __init__(self, ix, *, fresh: bool) -> None:
        ctx = multiprocessing.get_context("fork")
        self._inbox = ctx.Queue(maxsize=64)
        self._outbox = ctx.Queue()
        self._buf: list[LetterDoc] = []
        self._proc = ctx.Process(
            target=_helper_main,
            args=(ix.storage.folder, self._inbox, self._outbox, fresh),
            daemon=True,
        )
        self._proc.start()

    def send(self, doc: LetterDoc) -> None:
        self._buf.append(doc)
        if len(self._buf) >= self.BATCH:
            self._put(self._buf)
            self._buf = []

    def merge(self, segments: list) -> None:
        self._put(("merge", segments))

    def flush(self) -> None:
        if self._buf:
            self._put(self._buf)
            self._buf = []
        self._put(None)

    def _put(self, item) -> None:
        while True:  # (a full queue and a dead helper must not hang the writer)
            try:
                self._inbox.put(item, timeout=1.0)
                return
            except queue.Full:
                self._check_alive()

    def _check_alive(self) -> None:
        if not self._proc.is_alive():
            raise RuntimeError(f"index helper process died (exit code {self._proc.exitcode})")

    def finish(self) -> list:
        while True:
            try:
                status, payload = self._outbox.get(timeout=1.0)
                break
            except queue.Empty:
                self._check_alive()
        self._proc.join()
        self._close_queues()
        if status != "ok":
            raise RuntimeError(f"index helper process failed: {payload}")
        return payload

    def abort(self) -> None:
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join(timeout=5)
        self._close_queues()

    def _close_queues(self) -> None:
        # end the queues' feeder threads: the next writer forks only a one-thread process
        for q in (self._inbox, self._outbox):
            q.close()
            q.cancel_join_thread()


# words common to reply letters, never the key terms of one
_STOP_TEXT = """
我们 你们 您们 他们 有关 关于 进行 工作 建议 提案 议案 答复 办理 代表 委员 感谢 关心 支持
意见 情况 相关 开展 加强 推进 进一步 目前 下一步 以及 同时 一是 二是 三是 四是 五是 其中
已经 没有 可以 通过 根据 按照 及时 认真 研究 收悉 如下 现将 联系人 联系电话 电话 抄送 公开
方式 主动 市府 办公厅 我局 我委 我市 全市 各区 有关部门 单位 部门 年度 时间 要求 问题 方面
重要 重视 高度 落实 继续 不断 积极 努力 切实 持续 逐步 全面 充分 更加 做好 提出 提升 提高
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
