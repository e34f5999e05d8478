"""The reply corpus for logged-in users: search, the letter page, the review queue."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from tracker import downloads, headers
from tracker.current import search_engine, today
from tracker.formutil import options
from tracker.models import ReplyLetter
from tracker.paging import page_number, paginate
from tracker.replies.forms import ReviewForm
from tracker.rules.labels import LETTER_STATUS, SENT_LETTER_STATUSES
from tracker.search.base import FACETS
from tracker.services import corpus, permissions, search, tabular, vocab
from tracker.views_common import get_or_404, perform

bp = Blueprint("replies", __name__)

FACET_LABELS = {
    "year": "年份",
    "session": "会议",
    "kind": "类别",
    "issuer": "答复单位",
    "classification": "答复类别",
}
PER_PAGE = 20


EXPORT_MAX = 5000  # rows in a search export; the page says so when a search finds more
# hits fetched from the engine at a time: its largest page, so that up to that many the
# export is one ranking of the whole result, never pages that could split tied scores
EXPORT_BATCH = 1000


def _search_request() -> tuple[str, dict[str, str], str]:
    """The query text, facet filters and sort order in the query string."""
    text = request.args.get("q", "").strip()
    filters = {k: request.args[k] for k in FACETS if request.args.get(k)}
    return text, filters, request.args.get("sort", "relevance")


def search_page(template: str, endpoint: str, *, public: bool, **context):
    """The search page, shared by the logged-in and the public search."""
    text, filters, sort = _search_request()
    result = None
    if text or filters:

        def run(page: int):
            return search.run(
                text,
                user=None if public else current_user,
                operator=False,
                filters=filters,
                sort=sort,
                page=page,
                per_page=PER_PAGE,
                engine=search_engine(),
            )

        result = run(page_number())
        if result.total and result.page > result.pages:  # past the end: the last page
            result = run(result.pages)
    args = {k: v for k, v in request.args.items() if k in ("q", "sort", *FACETS) and v}
    return render_template(
        template,
        q=text,
        filters=filters,
        sort=sort,
        result=result,
        args=args,
        endpoint=endpoint,
        facet_labels=FACET_LABELS,
        **context,
    )


@bp.route("/search")
@login_required
def search_view():
    return search_page(
        "replies/search.html",
        "replies.search_view",
        public=False,
        export_endpoint="replies.search_export",
        export_max=EXPORT_MAX,
    )


SEARCH_EXPORT_HEADERS = (
    "会议",
    "类型",
    "编号",
    "建议/提案标题",
    "答复单位",
    "文号",
    "答复类别",
    "成文日期",
    "公开方式",
    "状态",
    "领衔人",
    "答复函标题",
    "链接",
)


def _search_export_row(letter: ReplyLetter, labels_of: dict[str, dict[str, str]]) -> list:
    proposal = letter.proposal
    proposers = letter.proposers or (proposal.proposers if proposal else [])
    return [
        letter.session_name or (proposal.session.name if proposal else ""),
        letter.proposal_kind or (proposal.kind if proposal else ""),
        letter.proposal_number or (proposal.number if proposal else ""),
        letter.proposal_title or (proposal.title if proposal else ""),
        letter.issuer or (letter.unit.name if letter.unit else ""),
        letter.doc_number or "",
        labels_of["classification"].get(letter.classification, letter.classification or ""),
        letter.letter_on,
        labels_of["disclosure"].get(letter.disclosure, letter.disclosure or ""),
        LETTER_STATUS.get(letter.status, letter.status),
        proposers[0] if proposers else "",
        letter.title or "",
        url_for("replies.letter", letter_id=letter.id, _external=True),
    ]


@bp.route("/search/export.<fmt>")
@login_required
def search_export(fmt: str):
    """The search's letters as a spreadsheet: the page's query, facets and sort, every
    letter the user may read (at most EXPORT_MAX)."""
    if fmt not in tabular.FORMATS:
        abort(404)
    text, filters, sort = _search_request()
    letters = None
    if text or filters:
        letters = search.matching_letters(
            text,
            engine=search_engine(),
            user=current_user,
            filters=filters,
            sort=sort,
            limit=EXPORT_MAX,
            batch=EXPORT_BATCH,
        )
    if letters is None:  # nothing asked, or a query that cannot be read: the page explains
        page = search_page(
            "replies/search.html",
            "replies.search_view",
            public=False,
            export_endpoint="replies.search_export",
            export_max=EXPORT_MAX,
        )
        return page, 400
    labels_of = {name: vocab.labels(name) for name in ("classification", "disclosure")}
    rows = [_search_export_row(le, labels_of) for le in letters]
    return downloads.table(
        tabular.Sheet("答复检索", SEARCH_EXPORT_HEADERS, rows),
        fmt,
        f"答复检索_{today().isoformat()}",
    )


def get_visible_letter(letter_id: int, *, public: bool) -> ReplyLetter:
    """A letter the viewer may read; to the public, one it may not read does not exist."""
    viewer = None if public else current_user
    return get_or_404(
        ReplyLetter,
        letter_id,
        lambda letter: search.visible_letter(viewer, letter),
        denied=404 if public else 403,
    )


def similar_text(letter: ReplyLetter) -> str:
    return " ".join(filter(None, [letter.proposal_title, letter.title, letter.body[:3000]]))


@bp.route("/letters/<int:letter_id>")
@login_required
def letter(letter_id: int):
    letter = get_visible_letter(letter_id, public=False)
    similar = search.similar(
        similar_text(letter), user=current_user, exclude=(letter.id,), engine=search_engine()
    )
    proposal_visible = letter.proposal is not None and permissions.can_view(
        current_user, letter.proposal
    )
    disclosure_form = None
    if letter.disclosure is None and _can_decide_disclosure(letter):
        from tracker.drafting.forms import DisclosureForm
        from tracker.services import vocab

        disclosure_form = DisclosureForm()
        disclosure_form.disclosure.choices = options(vocab.choices("disclosure"))
    return render_template(
        "replies/letter.html",
        letter=letter,
        similar=similar,
        proposal_visible=proposal_visible,
        disclosure_form=disclosure_form,
    )


def _can_review() -> bool:
    return permissions.sees_all(current_user)


@bp.route("/letters/review")
@login_required
def review():
    if not _can_review():
        abort(403)
    page = paginate(corpus.review_queue(), per_page=50)
    return render_template("replies/review.html", page=page)


@bp.route("/letters/<int:letter_id>/review", methods=["GET", "POST"])
@login_required
def review_letter(letter_id: int):
    if not _can_review():
        abort(403)
    letter = get_or_404(ReplyLetter, letter_id)
    form = ReviewForm(
        session=letter.session_name or "",
        number=letter.proposal_number or "",
        kind=letter.proposal_kind or "建议",
        year=letter.letter_on.year if letter.letter_on else None,
        **{name: getattr(letter, name) for name in corpus.REVIEW_DETAILS},
    )
    for name in ("classification", "disclosure"):
        field = getattr(form, name)
        field.choices = options([("", "—"), *vocab.choices(name)])
        if field.data not in {c.value for c in field.choices}:
            field.data = ""  # a word label as printed: the reviewer picks the term

    def action():
        corpus.complete_review(
            current_user,
            letter,
            session_name=form.session.data,
            year=form.year.data,
            kind=form.kind.data,
            number=form.number.data,
            details={name: getattr(form, name).data for name in corpus.REVIEW_DETAILS},
        )
        return "已补全并关联到建议/提案。"

    def page(status: int):
        reasons = (letter.review_reason or "").split("；") if letter.review_reason else []
        return render_template(
            "replies/review_letter.html", letter=letter, form=form, reasons=reasons
        ), status

    return perform(form, action, then=url_for("replies.review"), failed=page)


EXPORTABLE = ("approved", *SENT_LETTER_STATUSES)  # signed off, or sent


def export_response(letter: ReplyLetter, fmt: str):
    from flask import Response

    from tracker.services import exporting

    if fmt not in exporting.FORMATS or letter.status not in EXPORTABLE:
        abort(404)
    data = exporting.render(letter, fmt, nonce=getattr(request, "csp_nonce", None))
    if fmt == "html":
        return Response(data, content_type=exporting.FORMATS[fmt])
    return downloads.attachment(
        data,
        exporting.FORMATS[fmt],
        exporting.file_name(letter, fmt),
        ascii_name=f"letter-{letter.id}.{fmt}",
    )


@bp.route("/letters/<int:letter_id>/export/<fmt>")
@login_required
@headers.letter_page
def export(letter_id: int, fmt: str):
    return export_response(get_or_404(ReplyLetter, letter_id, _may_export), fmt)


def _may_export(letter: ReplyLetter) -> bool:
    if letter.status == "approved":  # signed but not sent: the unit and see-all roles
        return permissions.sees_all(current_user) or current_user.unit_id == letter.unit_id
    return search.visible_letter(current_user, letter)


def _can_decide_disclosure(letter: ReplyLetter) -> bool:
    return permissions.sees_unit(current_user, letter.unit_id)


@bp.route("/letters/<int:letter_id>/disclosure", methods=["POST"])
@login_required
def disclosure(letter_id: int):
    """An imported letter without a disclosure line: a person decides whether it is published."""
    from tracker.drafting.forms import DisclosureForm
    from tracker.services import drafting, vocab

    letter = get_or_404(ReplyLetter, letter_id, _can_decide_disclosure)
    form = DisclosureForm()
    form.disclosure.choices = options(vocab.choices("disclosure"))
    back = url_for("replies.letter", letter_id=letter.id)
    if not form.validate_on_submit():
        flash("请选择公开方式。", "error")
        return redirect(back)

    def action():
        drafting.decide_disclosure(
            current_user, letter, form.disclosure.data, form.reason.data or ""
        )
        return "已确定公开方式。"

    return perform(None, action, then=back)
