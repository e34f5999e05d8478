"""Which segments a commit merges (tiered merging), as a Whoosh merge policy.

Merges read segments through Whoosh's public ``SegmentReader`` and the writer's
``add_reader`` (the fast writer's, see ``w3``, or Whoosh's own)."""

from __future__ import annotations

import math
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from whoosh.reading import SegmentReader

MERGE_FACTOR = 10  # segments of one size class are merged when there are this many
SMALL_COMMIT_MERGE_MAX = 5000  # documents a commit without a helper process merges at most


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


def merge_policy(writer, segments: list, max_docs: int | None = None) -> list:
    """Merge the segments select_merges() picks into the writer's new segment; returns the
    others (a Whoosh merge policy)."""
    merge = select_merges(segments, max_docs)
    merge_into(writer, merge)
    return [s for s in segments if s not in merge]
