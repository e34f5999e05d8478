"""The commitment tracker: candidates to confirm, the list, a page per commitment."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("commitments", __name__)


@bp.route("/commitments")
def index():  # scaffold: replaced by the commitment list
    return "承诺事项"
