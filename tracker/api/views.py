"""The JSON API under /api/v1 for other systems (the congress office's, the government's).

Every route of ``bp`` needs a personal API token (``Authorization: Bearer trk_…``, made on
the account page) and acts with exactly its user's role and unit, through the permission
functions the pages use; no session cookie authenticates here and no CSRF token is asked
for. Each token is rate limited (counted in the database, shared by all workers). Errors
are problem details (RFC 9457, tracker.errors). The OpenAPI 3.1 document and the reference
page (``docs_bp``) are public: they describe the API and hold no data."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, g, jsonify, render_template, request, url_for
from flask_openapi3 import APIBlueprint, Tag
from sqlalchemy import func
from sqlalchemy.orm import defer, selectinload

from tracker import current
from tracker.api import answers, schemas
from tracker.errors import problem
from tracker.extensions import db
from tracker.models import Commitment, Proposal, ReplyLetter, User
from tracker.replies.views import export_response
from tracker.rules.proposal_sheet import row_from_mapping
from tracker.services import (
    api_tokens,
    commitments,
    permissions,
    proposal_batch,
    proposals,
    search,
    users,
)
from tracker.services.errors import Conflict, DomainError
from tracker.views_common import commit, get_or_404, write

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _problem(description: str, headers: dict | None = None) -> dict:
    answer = {
        "description": description,
        "content": {"application/problem+json": {"schema": PROBLEM}},
    }
    if headers:
        answer["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return answer


ERRORS = {
    401: _problem("缺少、无效、已撤销或已过期的 API 令牌", {"WWW-Authenticate": "Bearer"}),
    403: _problem("令牌所属用户无权进行此操作"),
    404: _problem("记录不存在"),
    422: _problem("参数或请求内容未通过校验"),
    429: _problem("请求过于频繁", {"Retry-After": "多少秒后可再请求"}),
}

PROPOSALS = Tag(name="建议提案", description="建议、提案的登记、列表与详情")
LETTERS = Tag(name="答复函", description="已发出的答复函：元数据、正文、导出文件")
SEARCH = Tag(name="检索", description="答复函全文检索（与检索页相同）")
COMMITMENTS = Tag(name="承诺事项", description="答复函中的承诺及其落实进展")
UNITS = Tag(name="单位", description="承办单位")


def _operation_id(*, name: str, path: str, method: str) -> str:
    return name


bp = APIBlueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    abp_security=[{"bearer": []}],
    abp_responses=ERRORS,
    operation_id_callback=_operation_id,
)
docs_bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")

SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "个人 API 令牌（trk_ 开头），在“账号 → API 令牌”页面创建；"
        "令牌以其用户的角色和单位范围访问。",
    }
}


# -- authentication and the rate limit -----------------------------------------------------


@bp.before_request
def _authenticate():
    """The token names the user; a request without a live token gets 401, one over the
    token's limit 429 (counted first: refused requests count too)."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    bearer = value.strip() if scheme.lower() == "bearer" else None
    try:
        token = api_tokens.authenticate(bearer)
    except api_tokens.InvalidToken as error:
        return problem(401, str(error), headers={"WWW-Authenticate": 'Bearer realm="tracker"'})
    retry_after = api_tokens.count_request(token, current.api_rate_limit())
    user_id = token.user_id
    commit()  # the count is shared by every worker: written before the view's own work
    if retry_after:
        return problem(
            429,
            f"此令牌每{current.api_rate_limit().window_seconds}秒最多请求"
            f"{current.api_rate_limit().limit}次，请{retry_after}秒后再试。",
            headers={"Retry-After": str(retry_after)},
        )
    user = api_tokens.user_with_unit(user_id)
    if not permissions.uses_api(user):
        return problem(403, "代表/委员账号不能使用 API。")
    g.api_user = user
    return None


def _user() -> User:
    return g.api_user


def _now() -> datetime:
    return datetime.now(UTC)


def _paged(query, q: schemas.PageQuery, model, build) -> dict:
    """A page of ``query``: with ``updated_since``, the rows changed after it, oldest
    change first (so a poller pages forward); ``as_of`` is the next poll's mark."""
    as_of = _now()
    if q.updated_since is not None:
        changed = model.updated_at
        query = query.where(changed > q.updated_since).order_by(None).order_by(changed, model.id)
    result = db.paginate(query, page=q.page, per_page=q.per_page, error_out=False, count=True)
    return answers.page(
        [build(row) for row in result.items],
        number=q.page,
        per_page=q.per_page,
        total=result.total or 0,
        as_of=as_of,
    )


# -- units ---------------------------------------------------------------------------------


@bp.get(
    "/units",
    tags=[UNITS],
    summary="承办单位列表",
    description="全部在用的承办单位及其 id（用于 /proposals?unit=…）。可用角色：全部。",
    responses={200: schemas.UnitList},
)
def units():
    rows = users.active_handling_units()
    return schemas.UnitList(items=[answers.unit(u) for u in rows]).model_dump(mode="json")


# -- proposals -----------------------------------------------------------------------------


@bp.get(
    "/proposals",
    tags=[PROPOSALS],
    summary="建议提案列表",
    description="与“建议提案”列表页相同的筛选、范围和分页：联络员、管理员、交办单位负责人"
    "看全部，承办单位的承办人和负责人看本单位承办的。可用角色：全部。",
    responses={200: schemas.ProposalPage},
)
def proposal_list(query: schemas.ProposalQuery):
    filters = proposals.ListFilters(
        q=query.q,
        session_id=query.session,
        kind=query.kind or "",
        status=query.status or "",
        classification=query.classification,
        unit_id=query.unit,
        overdue=query.overdue,
    )
    today = current.today()
    rows = proposals.list_query(_user(), filters, today).options(selectinload(Proposal.feedback))
    return schemas.ProposalPage(
        **_paged(rows, query, Proposal, lambda p: answers.proposal_summary(p, today))
    ).model_dump(mode="json")


@bp.get(
    "/proposals/<int:proposal_id>",
    tags=[PROPOSALS],
    summary="建议提案详情",
    description="承办单位（主办、会办、分办）与期限、状态、沟通联系、已发出答复函摘要、评价。"
    "可用角色：能在页面上查看该件的用户。",
    responses={200: schemas.Proposal},
)
def proposal_detail(path: schemas.ProposalPath):
    user = _user()
    row = get_or_404(Proposal, path.proposal_id, lambda p: permissions.can_view(user, p))
    return answers.proposal(row, user, current.today()).model_dump(mode="json")


def _plan(user: User, items: list[schemas.ProposalIn], *, session=None, assign_on=None):
    """The batch service's check of these rows (the 批量导入 page's and the CLI's)."""
    rows = [
        row_from_mapping(item.model_dump(exclude_none=True), line)
        for line, item in enumerate(items, 1)
    ]
    return proposal_batch.plan(
        user,
        rows,
        session=session,
        assign_on=assign_on,
        today=current.today(),
        policy=current.deadline_policy(),
    )


def _invalid(plan) -> DomainError:
    """A plan with rows in error, refused whole: every row's errors, nothing saved."""
    failed = plan.failed
    error = DomainError(f"{len(failed)}行有错误，未保存任何一行（{plan.summary()}）。")
    error.errors = [
        f"第{r.line}行（编号{r.row.number or '—'}）：{e}" for r in failed for e in r.errors
    ]
    return error


def _apply(user: User, plan):
    return proposal_batch.apply(user, plan, policy=current.deadline_policy(), today=current.today())


@bp.post(
    "/proposals",
    tags=[PROPOSALS],
    summary="登记一件建议提案",
    description="与登记页和批量导入相同的校验（编号、标题、领衔人、日期、承办单位）；列了承办单位"
    "的同时交办。已存在的编号返回 409。可用角色：联络员、管理员。",
    responses={201: schemas.Proposal, 409: _problem("该会议已有此编号")},
)
def proposal_create(body: schemas.ProposalCreate):
    user = _user()
    if not permissions.can_register(user):
        return problem(403, "只有联络员和管理员可以登记建议/提案。")

    def action() -> Proposal:
        plan = _plan(user, [body])
        planned = plan.rows[0]
        if planned.action == "error":
            raise _invalid(plan)
        if planned.action != "new":
            raise Conflict(
                f"{planned.session_name}已有第{planned.row.number}号{planned.proposal.kind}"
                f"（id {planned.proposal.id}），编号不能重复。"
            )
        _apply(user, plan)
        return planned.proposal

    row = write(action)
    answer = jsonify(answers.proposal(row, user, current.today()).model_dump(mode="json"))
    answer.status_code = 201
    answer.headers["Location"] = url_for("api.proposal_detail", proposal_id=row.id)
    return answer


@bp.post(
    "/proposals/batch",
    tags=[PROPOSALS],
    summary="批量登记（交办清单）",
    description="人大选联工委、政协提案委的系统推送一次会议的交办清单：与“批量导入”页相同的"
    "服务和校验。新编号登记（并按所列单位交办），已有且未过交办阶段的更新，已在办理的不予更新。"
    "有错误的行时整批不保存，返回 422 和每行的错误；dry_run=true 只返回检查结果。"
    f"每批最多 {schemas.MAX_BATCH} 行。可用角色：联络员、交办单位负责人、管理员。",
    responses={200: schemas.BatchResult},
)
def proposal_batch_create(query: schemas.BatchQuery, body: schemas.BatchIn):
    user = _user()

    def action() -> schemas.BatchResult:
        plan = _plan(user, body.rows, session=body.session, assign_on=body.assign_on)
        if not query.dry_run:
            if plan.failed:
                raise _invalid(plan)
            _apply(user, plan)  # each saved row's proposal is set
        return schemas.BatchResult(
            dry_run=query.dry_run,
            summary=plan.summary(),
            counts=plan.counts(),
            rows=[
                schemas.BatchRow(**planned.as_dict(), action_label=planned.action_label)
                for planned in plan.rows
            ],
        )

    return write(action).model_dump(mode="json")


# -- reply letters ---------------------------------------------------------------------------


@bp.get(
    "/letters",
    tags=[LETTERS],
    summary="答复函列表",
    description="已发出的答复函（已发出、已公开、已导入），范围与检索页相同：不予公开的只有"
    "本单位和看全部的角色能看到。可用角色：全部。",
    responses={200: schemas.LetterPage},
)
def letter_list(query: schemas.LetterQuery):
    rows = (
        db.select(ReplyLetter)
        .where(search.sent_letters_scope(_user()))
        .options(defer(ReplyLetter.body), defer(ReplyLetter.sections))
        .order_by(ReplyLetter.id.desc())
    )
    if query.sent_since is not None:
        sent_on = func.coalesce(ReplyLetter.issued_on, ReplyLetter.letter_on)
        rows = rows.where(sent_on >= query.sent_since)
    if query.proposal is not None:
        rows = rows.where(ReplyLetter.proposal_id == query.proposal)
    return schemas.LetterPage(
        **_paged(rows, query, ReplyLetter, answers.letter_summary)
    ).model_dump(mode="json")


def _sent_visible(letter: ReplyLetter) -> bool:
    return letter.status in answers.SENT_LETTER_STATUSES and search.visible_letter(_user(), letter)


@bp.get(
    "/letters/<int:letter_id>",
    tags=[LETTERS],
    summary="答复函详情",
    description="元数据、正文和导出文件的地址。可用角色：能在页面上阅读该函的用户。",
    responses={200: schemas.Letter},
)
def letter_detail(path: schemas.LetterPath):
    return answers.letter(get_or_404(ReplyLetter, path.letter_id, _sent_visible)).model_dump(
        mode="json"
    )


FILES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "html": "text/html",
}


@bp.get(
    "/letters/<int:letter_id>/export/<fmt>",
    tags=[LETTERS],
    summary="答复函导出文件",
    description="按 GB/T 9704 排版的 .docx、PDF，或打印用的 HTML。可用角色：能在页面上阅读该函的用户。",
    responses={
        200: {
            "description": "文件",
            "content": {
                mime: {"schema": {"type": "string", "format": "binary"}} for mime in FILES.values()
            },
        }
    },
)
def letter_export(path: schemas.ExportPath):
    return export_response(get_or_404(ReplyLetter, path.letter_id, _sent_visible), path.fmt)


# -- search --------------------------------------------------------------------------------


@bp.get(
    "/search",
    tags=[SEARCH],
    summary="检索答复函",
    description="与检索页相同的检索引擎、检索式和可见范围；可按年份、会议、类别、答复单位、"
    "答复类别筛选。可用角色：全部。",
    responses={200: schemas.SearchResult},
)
def search_letters(query: schemas.SearchQueryArgs):
    def run(page: int):
        return search.run(
            query.q,
            engine=current.search_engine(),
            user=_user(),
            operator=False,
            filters=query.filters(),
            sort=query.sort,
            page=page,
            per_page=query.per_page,
            with_facets=False,
        )

    return answers.search_result(query.q, run(query.page)).model_dump(mode="json")


# -- commitments ---------------------------------------------------------------------------


@bp.get(
    "/commitments",
    tags=[COMMITMENTS],
    summary="承诺事项列表",
    description="已确认的承诺事项，范围与承诺事项页相同：本单位的，或看全部的角色的全部；"
    "status=overdue 或 overdue=true 列超期未完成的。可用角色：全部。",
    responses={200: schemas.CommitmentPage},
)
def commitment_list(query: schemas.CommitmentQuery):
    filters = commitments.ListFilters(
        status=query.status or "", overdue=query.overdue, unit_id=query.unit
    )
    today = current.today()
    rows = commitments.list_query(_user(), filters, today)
    return schemas.CommitmentPage(
        **_paged(rows, query, Commitment, lambda c: answers.commitment_summary(c, today))
    ).model_dump(mode="json")


@bp.get(
    "/commitments/<int:commitment_id>",
    tags=[COMMITMENTS],
    summary="承诺事项详情",
    description="承诺内容、期限、状态和每条落实进展。可用角色：责任单位的用户和看全部的角色。",
    responses={200: schemas.Commitment},
)
def commitment_detail(path: schemas.CommitmentPath):
    row = get_or_404(
        Commitment,
        path.commitment_id,
        lambda c: commitments.can_view(_user(), c),
        named=lambda c: c.status in commitments.CONFIRMED,  # a candidate is none yet
    )
    return answers.commitment(row, current.today()).model_dump(mode="json")


# -- the contract: public ------------------------------------------------------------------


@docs_bp.route("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document, generated from the routes and models above."""
    return jsonify(current_app.api_doc)


@docs_bp.route("/docs")
def reference():
    """The API's reference page: the operations listed on the page (no JavaScript needed),
    and Swagger UI from the site's own static files over them."""
    spec = current_app.api_doc
    operations = [
        {"method": method.upper(), "path": path, **operation}
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]
    return render_template("api/reference.html", spec=spec, operations=operations)
