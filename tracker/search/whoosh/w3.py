"""Every use of Whoosh's internals, and the public way to do the same.

Whoosh's generic writer pushes every posting through a sorting pool and several Python
calls (~90 letters/s here), and its matchers read postings one call at a time. So, for
the Whoosh version it was tested with, this module reads and writes the W3 codec's files
directly:

- ``FastWriter`` (a ``SegmentWriter``) gathers postings per term in dicts and writes each
  term's blocks in one go (``_flush_segment``), in the W3 format (the files are standard W3
  segments; block length statistics are left at 0, as only Whoosh's own pruning reads
  them), merges segments through the same dicts (``add_reader``, reading a segment's term
  table and postings file in order), and splits ``commit`` in two so that a helper
  process's segment is committed with its own. Members used: ``SegmentWriter``'s
  ``_check_state``, ``_added``, ``_flush_segment``, ``_finalize_segment``,
  ``_close_segment``, ``_commit_toc``, ``_finish``, ``perdocwriter``, ``fieldwriter``,
  ``docnum``, ``write_per_doc`` and the ``_lk`` argument; the field writer's
  ``_postfile``, ``_tindex`` (``dbfile``, ``index``, ``buckets``, ``hashfn``,
  ``lastkey``) and ``_fieldid``; ``W3TermInfo``'s byte layout (``!BfIBBfII`` then offset
  ``!q`` and length ``!i``), the posting blocks' layout (``WHOOSH3_HEADER_MAGIC``, then
  [length][pickled info][pickled data]) and ``md5_hash``.
- ``term_postings``, ``doc_frequency``: a segment reader's ``_terms`` (``term_info``,
  ``doc_frequency``, ``_postfile``, ``_tindex``, ``_fieldunmap``), posting lists parsed
  whole.
- ``body_lengths``: a segment reader's ``_perdoc._cached_reader`` (the body length column).
- ``text_finder``: a column reader's ``_dbfile``, ``_basepos``, ``_offsets``, ``_lengths``
  (the ``text`` column file memory-mapped and searched in place).

At import, ``check()`` compares Whoosh's version with TESTED_VERSION and looks for the
classes and members above that can be looked for without an index. If anything differs,
INTERNALS is False (a warning is logged once) and every function here uses Whoosh's public
API instead: its own ``SegmentWriter`` and merges, ``reader.postings()``,
``reader.doc_frequency()``, ``reader.doc_field_length()`` and the column readers -- the
same answers, more slowly, never fewer hits. With INTERNALS on, a missing member raises
instead of being skipped. A reader that is not a segment reader (an empty index's) is
always read through the public API. tests/test_search_w3.py runs both paths against each
other and against Whoosh's own searcher.
"""

from __future__ import annotations

import logging
import mmap
import struct
import warnings
import zlib
from collections.abc import Callable, Iterator
from contextlib import suppress
from hashlib import md5
from io import BytesIO
from itertools import accumulate
from pickle import dumps as _dumps
from pickle import load as _load
from pickle import loads as _loads

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import whoosh
    from whoosh import columns, writing
    from whoosh.codec import whoosh3
    from whoosh.filedb import filetables
    from whoosh.reading import SegmentReader, TermNotFound
    from whoosh.system import pack_ushort
    from whoosh.util.numeric import byte_to_length

from tracker.search import analysis
from tracker.search.whoosh.schema import PairsField, WordsField

log = logging.getLogger(__name__)

TESTED_VERSION = (2, 7, 5)  # whoosh-reloaded, pinned in pyproject.toml

# W3TermInfo.to_bytes for postings not inlined: flags, weight, doc freq, min and max length
# bytes, max weight, first and last id ("!BfIBBfII"), then offset ("!q") and length ("!i")
_TERMINFO_HEAD = "!BfIBBfII"
_TERMINFO = struct.Struct(_TERMINFO_HEAD + "qi")
_TERMINFO_BASE = struct.calcsize(_TERMINFO_HEAD)
_EXTENT = struct.Struct("!qi")
_KV_LENGTHS = struct.Struct("!ii")  # whoosh.filedb.filetables' key/value length header
_INT = struct.Struct("!i")
_LENGTHS = columns.NumericColumn("B", default=0)  # Whoosh's field-length column
BLOCK = 128  # postings per block (Whoosh's default)
CODEC_ARGS = {"compression": 0}  # postings are small; zlib per block costs more than it saves

# what can be checked without an index: (object, member names)
_MEMBERS = (
    (
        writing.SegmentWriter,
        (
            "_check_state",
            "_flush_segment",
            "_finalize_segment",
            "_close_segment",
            "_commit_toc",
            "_finish",
            "write_per_doc",
            "add_reader",
            "delete_by_term",
        ),
    ),
    (SegmentReader, ("deleted_docs_set", "has_deletions", "doc_count_all", "segment")),
    (whoosh3, ("W3Codec", "W3TermInfo", "W3FieldWriter", "W3TermsReader", "W3PerDocReader")),
    (whoosh3.W3TermInfo, ("from_bytes", "is_inlined", "inlined_postings", "extent")),
    (whoosh3.W3TermsReader, ("term_info", "doc_frequency")),
    (whoosh3.W3FieldWriter, ("start_field", "finish_field", "close")),
    (whoosh3.W3PerDocReader, ("_cached_reader",)),
    (filetables, ("md5_hash",)),
)


def check(version: tuple | str = whoosh.__version__) -> str | None:
    """Why this Whoosh's internals cannot be used (None: they are the ones tested)."""
    if isinstance(version, str):
        version = tuple(int(p) if p.isdigit() else p for p in version.split("."))
    if tuple(version)[:3] != TESTED_VERSION:
        found = ".".join(map(str, version))
        tested = ".".join(map(str, TESTED_VERSION))
        return f"Whoosh {found} is not the version tested ({tested})"
    for owner, names in _MEMBERS:
        missing = [n for n in names if not hasattr(owner, n)]
        if missing:
            return f"{getattr(owner, '__name__', owner)} has no {', '.join(missing)}"
    if getattr(getattr(whoosh3.W3TermInfo, "_struct", None), "format", None) != _TERMINFO_HEAD:
        return "W3TermInfo's byte layout changed"
    if getattr(whoosh3, "WHOOSH3_HEADER_MAGIC", None) != b"W3Bl":
        return "W3 posting blocks' header changed"
    return None


FALLBACK_REASON = check()
INTERNALS = FALLBACK_REASON is None  # (tests switch it off to run the public path)
if not INTERNALS:
    log.warning("search: %s; using Whoosh's public writer and readers (slower)", FALLBACK_REASON)


# -- writing ------------------------------------------------------------------------------


class PublicWriter(writing.SegmentWriter):
    """Whoosh's own writer, with the engine's options. Values for word fields are
    ``analysis.Analysed`` objects (``WordsField.index`` turns them into postings)."""

    fast = False

    def __init__(self, ix, **kwargs):
        kwargs.setdefault("compound", False)  # (the text column is read as a plain file)
        super().__init__(ix, **kwargs)


def _codec():
    return whoosh3.W3Codec(**CODEC_ARGS)


class FastWriter(writing.SegmentWriter):
    """A SegmentWriter that gathers postings per term and writes each term's blocks at once.

    Values for word fields are ``analysis.Analysed`` objects; ``id`` a string; ``meta``
    bytes; ``doc`` a tuple."""

    fast = True

    def __init__(self, ix, **kwargs):
        kwargs.setdefault("codec", _codec())
        kwargs.setdefault("compound", False)
        super().__init__(ix, **kwargs)
        self._post: dict[str, dict[str, tuple[list, list]]] = {}

    @classmethod
    def unlocked(cls, ix) -> FastWriter:
        """A writer for a helper process, under the lock its parent's writer holds."""
        return cls(ix, _lk=False)

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
        assert tindex.hashfn is filetables.md5_hash
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

    def finish_segments(self, *, clear: bool, merge: Callable[[object, list], list]) -> list:
        """Merge segments into this one (`merge`, a Whoosh merge policy, returns those it
        leaves; all the old ones are dropped if `clear`) and write it; returns the
        segments to commit."""
        self._check_state()
        final = [] if clear else merge(self, self.segments)
        final += self.finish_segment()
        return final

    def finish_segment(self) -> list:
        """Write this writer's segment without committing: [the segment], or [] if it has
        no documents (a helper process's writer ends so; its parent commits)."""
        if self._added:
            return [self._finalize_segment()]
        self._close_segment()
        return []

    def commit_segments(self, segments: list) -> None:
        self._commit_toc(segments)
        self._finish()


def open_writer(ix, **kwargs) -> FastWriter | PublicWriter:
    """The index's writer (``writing.SegmentWriter`` arguments: timeout, delay …)."""
    return FastWriter(ix, **kwargs) if INTERNALS else PublicWriter(ix, **kwargs)


def _encode_postings(ids: list[int], weights: list | None) -> bytes:
    """A term's posting list in the W3 format: the magic number, then blocks of BLOCK
    postings, each [length, negative for the last][pickled info][pickled data] (`weights`
    None: 1 throughout, as for the character pairs)."""
    n = len(ids)
    parts = [whoosh3.WHOOSH3_HEADER_MAGIC]
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


# -- reading ------------------------------------------------------------------------------


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


def _terminfo_postings(terms, terminfo) -> tuple[list[int], list[float]]:
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
            ids, ws = _terminfo_postings(terms, whoosh3.W3TermInfo.from_bytes(value))
        else:
            offset, length = extent(value, base)
            ids, ws = _parse_postings(posts[offset : offset + length])
        yield names[(key[0] << 8) | key[1]], key[2:], ids, ws


def _fast(leaf) -> bool:
    return INTERNALS and isinstance(leaf, SegmentReader)


def term_postings(leaf, field: str, tbytes: bytes) -> tuple[list[int], list[float]] | None:
    """The docnums (in the segment) and weights of a term, deleted documents left out;
    None when the segment does not have the term."""
    if _fast(leaf):
        terms = leaf._terms
        try:
            terminfo = terms.term_info(field, tbytes)
        except (KeyError, TermNotFound):
            return None
        ids, ws = _terminfo_postings(terms, terminfo)
        deleted = leaf.deleted_docs_set if leaf.has_deletions() else None
        if deleted:
            pairs = [(d, w) for d, w in zip(ids, ws, strict=True) if d not in deleted]
            ids = [p[0] for p in pairs]
            ws = [p[1] for p in pairs]
        return ids, ws
    try:
        m = leaf.postings(field, tbytes)  # (deleted documents filtered out)
    except TermNotFound:
        return None
    ids, ws = [], []
    while m.is_active():
        ids.append(m.id())
        ws.append(float(m.weight()))
        m.next()
    return ids, ws


def doc_frequency(leaf, field: str, tbytes: bytes) -> int:
    """In how many documents of the segment (deleted ones included) the field has the
    term; 0 when the segment has no such field or term."""
    if _fast(leaf):
        with suppress(KeyError, TermNotFound):
            return leaf._terms.doc_frequency(field, tbytes)
        return 0
    with suppress(KeyError, TermNotFound):
        return leaf.doc_frequency(field, tbytes)
    return 0


def body_lengths(leaf, n: int) -> list[int]:
    """The body length (words) of each of the segment's `n` documents."""
    if _fast(leaf):
        lens = leaf._perdoc._cached_reader("_body_len", _LENGTHS)
        return [byte_to_length(b) for b in lens] if lens is not None else [0] * n
    return [leaf.doc_field_length(d, "body", 0) for d in range(n)]


def text_finder(leaf) -> Callable[[bytes, int], bool] | None:
    """needle, docnum -> whether the segment's ``text`` column value has the needle (None
    when the segment has no such column). With INTERNALS, a search in the memory-mapped
    column file, without copying the text."""
    if not leaf.has_column("text"):
        return None
    col = leaf.column_reader("text", translate=False)
    if _fast(leaf):
        try:
            mm = mmap.mmap(col._dbfile.file.fileno(), 0, access=mmap.ACCESS_READ)
        except (AttributeError, OSError, ValueError):  # not a plain file: read each value
            pass
        else:
            base, offsets, lengths = col._basepos, col._offsets, col._lengths
            find = mm.find

            def finder(needle: bytes, docnum: int) -> bool:
                start = base + offsets[docnum]
                return find(needle, start, start + lengths[docnum]) >= 0

            finder.mmap = mm  # keep it alive as long as the finder
            return finder
    return lambda needle, docnum: needle in col[docnum]
