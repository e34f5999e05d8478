"""The engine's former module name, which must stay: every search index written before the
engine became a package pickled its schema's classes as ``tracker.search.whoosh_engine.
WordsField`` (and PairsField, CountFormat), so an installation upgraded in place opens its
index only while this name resolves (tests/test_search_upgrade.py). This name is the engine
module itself, so what tests patch here is patched there."""

import sys

from tracker.search.whoosh import engine

sys.modules[__name__] = engine
