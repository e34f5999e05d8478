"""Entry point for a production WSGI server: `gunicorn wsgi:app`."""

from tracker import create_app

app = create_app()
