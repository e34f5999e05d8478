"""The engine's former module, kept while callers move to ``tracker.search.whoosh.engine``
(tests/conftest.py's ``previous_index_version`` patches ``make_schema`` and
``SCHEMA_VERSION`` here). This name is that module itself, so what is patched here is
patched there; remove it when nothing imports it."""

import sys

from tracker.search.whoosh import engine

sys.modules[__name__] = engine
