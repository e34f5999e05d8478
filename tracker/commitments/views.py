"""The commitment tracker: candidates to confirm, the list, a page per commitment."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("commitments", __name__)


@bp.route("/commitments")
def index():  # scaffold: replaced by the commitment list
    return "承诺事项"


@bp.route("/commitments/<int:commitment_id>")
def detail(commitment_id: int):  # scaffold: replaced by the commitment page
    return "承诺事项"


@bp.route("/letters/<int:letter_id>/commitments")
def review(letter_id: int):  # scaffold: replaced by the candidates page
    return "承诺事项"
