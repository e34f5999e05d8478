"""/healthz: whether this server can answer, for a load balancer or a monitor.

No login and no data: the state of the database (a query answers, the schema is the one
this code expects) and of the search index (a search answers; how many letters wait to be
indexed). 200 when both work, 503 otherwise, so the balancer takes the server out."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text

from tracker import current
from tracker.extensions import db
from tracker.services import indexing, search
from tracker.views_common import rollback

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        indexing.pending(db.session)  # the schema is there, not only the server
    except Exception:
        log.exception("health check: the database does not answer")
        rollback()  # the failed query's transaction, before the index is asked
        return "error"
    return "ok"


# What the probe searches for: a word no letter has, so that the search reads the index
# (a damaged or missing one fails) but ranks and counts no letters. It was 答复, which
# every letter has: 100 ms of PostgreSQL's time per probe at 100,000 letters (17 ms with
# Whoosh), for each server, every few seconds, from each load balancer.
PROBE = "healthprobe"


def _index() -> tuple[str, int | None]:
    try:
        search.run(PROBE, engine=current.search_engine(), per_page=1, with_facets=False)
        waiting = indexing.pending(db.session)
    except Exception:
        log.exception("health check: the search index does not answer")
        return "error", None
    return "ok", waiting


@bp.route("/healthz")
def healthz():
    database = _database()
    index, waiting = _index() if database == "ok" else ("unknown", None)
    healthy = database == "ok" and index == "ok"
    body = {"status": "ok" if healthy else "error", "database": database, "index": index}
    if waiting is not None:
        body["index_pending"] = waiting
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
