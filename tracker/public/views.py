"""Published replies for everyone (no login): search and the letter page."""

from __future__ import annotations

from flask import Blueprint, render_template

from tracker import headers
from tracker.current import search_engine
from tracker.replies.views import export_response, get_visible_letter, search_page, similar_text
from tracker.services import search

bp = Blueprint("public", __name__, url_prefix="/public")


@bp.route("/")
def index():
    # the latest replies show only before anyone searches: read then, not on every search
    return search_page(
        "public/search.html", "public.index", public=True, recent=search.recent_public
    )


@bp.route("/letters/<int:letter_id>")
def letter(letter_id: int):
    letter = get_visible_letter(letter_id, public=True)
    similar = search.similar(
        similar_text(letter), user=None, exclude=(letter.id,), engine=search_engine()
    )
    return render_template("public/letter.html", letter=letter, similar=similar)


@bp.route("/letters/<int:letter_id>/export/<fmt>")
@headers.letter_page
def export(letter_id: int, fmt: str):
    return export_response(get_visible_letter(letter_id, public=True), fmt)
