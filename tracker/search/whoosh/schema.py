"""The index's Whoosh schema, its version, and a letter's fields.

Word fields -- title, proposal_title, body, proposers, issuer and refs (proposal and
document numbers) -- hold the terms of ``analysis.analyse`` (jieba words and the sub-words
inside them) with their frequencies; no positions. ``pairs`` holds the pairs of adjacent
Han characters of the letter's text that are not among those terms (``analysis.bigrams``),
presence only. ``text`` is a column with the letter's squeezed text (``analysis.squeeze``),
where phrases and loose clauses are looked for; ``meta`` a column with what filters,
facets, visibility and date order need (``query.encode_meta``). The stored ``doc`` tuple
holds what a hit shows, and the body for snippets (Whoosh compresses stored fields).

``.tracker-schema`` names the index's version (SCHEMA_VERSION). An index of the previous
version, without ``pairs``, is used as it is: it answers every query, a loose clause by
reading every letter's text; a rebuild writes the current version.

Only Whoosh's public API is used here; ``w3`` holds every use of its internals.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from whoosh import columns, formats
    from whoosh import fields as wf

from tracker.search import analysis
from tracker.search.base import LetterDoc
from tracker.search.whoosh.query import PAIRS, WORD_FIELDS, encode_meta

SCHEMA_VERSION = "tracker-search-4"
# an index of these versions is read and written as it is (see WhooshEngine._open_or_create)
COMPATIBLE_VERSIONS = ("tracker-search-3",)


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
        """(term, frequency, weight, value) for Whoosh's own writer, which takes the sum of
        the frequencies as the field's length: the length (words, not sub-words) is given
        with the first term and 0 with the others, the frequency itself as the weight."""
        a = (
            value
            if isinstance(value, analysis.Analysed)
            else analysis.analyse(value, whole=self.whole)
        )
        length = a.length
        for term, freq in a.terms.items():
            yield term.encode("utf-8"), length, float(freq), b""
            length = 0

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


def document_fields(doc: LetterDoc, *, pairs: bool = True) -> dict:
    """A letter's fields for a writer; `pairs`: with the character pairs (an index of the
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
        "meta": encode_meta(doc),
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
