"""Entry point for a production WSGI server: `gunicorn wsgi:app`."""

import gc

from tracker import create_app

app = create_app()

# What the app holds from its start (modules, models, templates, routes: 150,000 objects) is
# there for the worker's life: kept out of the garbage collector's full passes, which walked
# it all again every few hundred requests.
gc.collect()
gc.freeze()
