"""A helper process for large writes (an import batch, a rebuild).

Writing 200 letters or more at once forks a helper that takes half the letters, or the
merge, so both cores work; it writes a segment of its own while the main writer holds the
lock, and the main writer commits both. Only with the fast writer (``w3.INTERNALS``): a
segment written but not committed is Whoosh's internals."""

from __future__ import annotations

import multiprocessing
import queue
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from whoosh import index

from tracker.search.base import LetterDoc
from tracker.search.whoosh import merges, w3
from tracker.search.whoosh.query import PAIRS
from tracker.search.whoosh.schema import document_fields


def _helper_main(index_dir: str, inbox, outbox, schema) -> None:  # pragma: no cover
    try:
        ix = index.open_dir(index_dir)
        writer = w3.FastWriter.unlocked(ix)
        if schema is not None:  # a rebuild: the segment has the main writer's schema
            writer.schema = schema
        while True:
            batch = inbox.get()
            if batch is None:
                break
            if isinstance(batch, tuple):  # ("merge", segments)
                merges.merge_into(writer, batch[1])
                continue
            pairs = PAIRS in writer.schema
            for doc in batch:
                writer.add_document(**document_fields(doc, pairs=pairs))
        # (the temporary folder is shared with the main writer, which removes it)
        outbox.put(("ok", writer.finish_segment()))
    except BaseException as exc:
        outbox.put(("error", repr(exc)))


class Helper:
    """A second process that writes a segment of its own (letters, or merged segments)
    while the main writer holds the lock; the main writer commits both segments.
    `schema`: the schema of a rebuild's new segments (None: the index's)."""

    BATCH = 8

    def __init__(self, ix, *, schema=None) -> None:
        ctx = multiprocessing.get_context("fork")
        self._inbox = ctx.Queue(maxsize=64)
        self._outbox = ctx.Queue()
        self._buf: list[LetterDoc] = []
        self._proc = ctx.Process(
            target=_helper_main,
            args=(ix.storage.folder, self._inbox, self._outbox, schema),
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
