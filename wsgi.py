"""Entry point for a production WSGI server: `gunicorn wsgi:app`."""

import gc

from tracker import create_app
from tracker.collector import collect_at_safe_points
from tracker.web import warm_up

app = create_app()
warm_up(app)  # templates compiled and the search index open before the first request

# What the app holds from its start (modules, models, templates, routes: 150,000 objects) is
# there for the worker's life: kept out of the garbage collector's full passes, which walked
# it all again every few hundred requests.
gc.collect()
gc.freeze()
# A worker may run threads (gunicorn --threads; the README serves without): on CPython 3.11
# a collection started inside a C call could hand the GIL to another thread mid-call and
# corrupt the heap (tracker/collector.py)
collect_at_safe_points()
