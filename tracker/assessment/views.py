"""考评: the year's assessment of the handling units (a tab of 督办统计) and the scheme's
editor (系统管理 → 考评方案).

Who sees what follows 督办统计: the coordinating office, liaisons and the admin see every
unit's score and the ranking; a unit's supervisor sees their own unit's row (with its
place); clerks are refused. Finalizing a year (定稿) is the coordinating office's and the
admin's; editing the scheme is the admin's.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required

from tracker import downloads
from tracker.assessment import forms
from tracker.current import today
from tracker.formutil import as_id
from tracker.models import Unit
from tracker.paging import paginate
from tracker.rules import assessment as rule
from tracker.services import assessment as svc
from tracker.services import dashboard as stats
from tracker.services import permissions, vocab
from tracker.services.tabular import Sheet
from tracker.views_common import get_or_404, perform

bp = Blueprint("assessment", __name__)

PER_PAGE = 50
YEARS = (1990, 2100)  # the years one may assess
CONTACT_KINDS = ("contact_before", "in_person")
LISTED_KINDS = ("attitude_satisfied", "disputed_contacts")  # listed here, as a whole


def _viewer_check() -> None:
    if not permissions.can_view_dashboard(current_user):
        abort(403)
    if not permissions.sees_all(current_user) and current_user.unit is None:
        abort(403)


def _year() -> int:
    form = forms.YearForm(request.args)
    if not form.validate():
        abort(400)
    return form.year.data or today().year - 1


def _visible(result: svc.Assessment) -> list[svc.UnitScore]:
    if permissions.sees_all(current_user):
        return result.rows
    return [r for r in result.rows if r.unit.id == current_user.unit_id]


def _period_args(year: int, unit_id: int) -> dict[str, str]:
    return {"from": f"{year}-01-01", "to": f"{year}-12-31", "unit": str(unit_id)}


def item_link(year: int, unit_id: int, part: rule.ItemScore) -> str | None:
    """The list behind an item's count: 督办统计's lists, the commitment list, or this
    page's own list of replies without the contact the item counts."""
    args = _period_args(year, unit_id)
    if part.kind in CONTACT_KINDS:
        return url_for("assessment.items", year=year, unit=unit_id, kind=part.kind, missing="1")
    if part.kind in LISTED_KINDS:
        return url_for("assessment.items", year=year, unit=unit_id, kind=part.kind)
    if part.kind == "commitments_on_time":
        return url_for(
            "commitments.index",
            due_from=args["from"],
            due_to=args["to"],
            unit=str(unit_id),
        )
    metric = {
        "on_time": "reply_total",
        "overdue": "reply_total",
        "result_satisfied": "rated",
        "rehandled": "rehandled",
    }.get(part.kind)
    return url_for("dashboard.items", metric=metric, **args) if metric else None


@bp.route("/dashboard/assessment")
@login_required
def index():
    _viewer_check()
    year = _year()
    result = svc.assess(year, today())
    return render_template(
        "assessment/index.html",
        result=result,
        rows=_visible(result),
        year=year,
        years=list(range(today().year, today().year - 6, -1)),
        kinds=rule.KINDS,
        item_link=item_link,
        can_finalize=svc.can_finalize(current_user),
    )


def _sheet(result: svc.Assessment, rows: list[svc.UnitScore]) -> Sheet:
    items = result.scheme.items
    headers = ["名次", "单位", "得分"]
    for item in items:
        label = item.get("label") or rule.KINDS[item["kind"]].label
        if rule.KINDS[item["kind"]].mode == "rate":
            headers += [f"{label}（件）", f"{label}（基数）", f"{label}（得分）"]
        else:
            headers += [f"{label}（件）", f"{label}（扣分）"]
    values = []
    for row in rows:
        cells: list = [row.rank, row.unit.name, row.score]
        for part in row.items:
            cells.append(part.numerator)
            if part.mode == "rate":
                cells.append(part.denominator)
            cells.append(round(part.earned, 2))
        values.append(cells)
    return Sheet(f"{result.year}年度考评", headers, values)


def _scheme_sheet(result: svc.Assessment) -> Sheet:
    rows = []
    for item in result.scheme.items:
        kind = rule.KINDS[item["kind"]]
        rows.append(
            [
                item.get("label") or kind.label,
                "得分项" if kind.mode == "rate" else "扣分项",
                item["points"],
                item.get("cap"),
                kind.definition,
            ]
        )
    rows.append(["方案", f"第{result.scheme.version}版 {result.scheme.name}", None, None, ""])
    rows.append(["依据", result.scheme.source, None, None, ""])
    return Sheet("考评方案", ["项目", "类别", "分值", "扣分上限", "口径"], rows)


@bp.route("/dashboard/assessment/export.xlsx")
@login_required
def export():
    _viewer_check()
    year = _year()
    result = svc.assess(year, today())
    sheets = [_sheet(result, _visible(result)), _scheme_sheet(result)]
    return downloads.table(sheets, "xlsx", f"督办统计_{year}年度考评")


@bp.route("/dashboard/assessment/items")
@login_required
def items():
    _viewer_check()
    year = _year()
    kind = request.args.get("kind", "")
    if kind not in (*CONTACT_KINDS, *LISTED_KINDS):
        abort(404)
    unit = get_or_404(Unit, as_id(request.args.get("unit")) or 0)
    if not permissions.sees_all(current_user) and unit.id != current_user.unit_id:
        abort(403)
    missing = request.args.get("missing") == "1"
    scheme, _ = svc.scheme_for(year)
    label = rule.KINDS[kind].label
    args = {"year": year, "unit": unit.id, "kind": kind, "missing": "1" if missing else ""}
    if kind == "disputed_contacts":
        page = paginate(svc.disputed_items(year, unit.id), per_page=PER_PAGE)
        headers, links = svc.DISPUTED_HEADERS, {"编号": "proposal", "标题": "proposal"}
        rows = svc.disputed_rows(list(page.items))
        title = f"{year}年度 {unit.name} 代表有异议的沟通联系"
    else:
        if kind == "attitude_satisfied":
            query = svc.attitude_items(year, unit.id)
            metric, title = "rated", f"{year}年度 {unit.name} 评价了办理态度的件"
        else:
            query = svc.contact_items(kind, year, unit.id, scheme.in_person_channels, missing)
            what = "未" if missing else "已"
            metric, title = "on_time", f"{year}年度 {unit.name} 答复件中{what}{label}的件"
        page = paginate(query, per_page=PER_PAGE)
        family = stats.METRICS[metric].family
        headers, links = stats.HEADERS[family], stats.LINKS[family]
        rows = stats.item_rows(metric, list(page.items), today())
    return render_template(
        "assessment/items.html",
        title=title,
        year=year,
        headers=headers,
        links=links,
        rows=rows,
        page=page,
        args=args,
    )


@bp.route("/dashboard/assessment/<int:year>/finalize", methods=["POST"])
@login_required
def finalize(year: int):
    if not svc.can_finalize(current_user):
        abort(403)
    if not YEARS[0] <= year <= YEARS[1]:
        abort(404)

    def action():
        svc.finalize(current_user, year)
        return f"{year}年度考评已定稿，此后修改考评方案不影响该年度得分。"

    return perform(None, action, then=url_for("assessment.index", year=year))


# -- the scheme (系统管理) --------------------------------------------------------------------


def _fill(form: forms.SchemeForm) -> None:
    """A GET shows the current version: one row for every kind the tracker counts."""
    scheme = svc.current_scheme()
    form.name.data = scheme.name
    form.source.data = scheme.source
    form.in_person_channels.data = "、".join(scheme.in_person_channels or [])
    used = {i["kind"]: i for i in scheme.items}
    defaults = {i["kind"]: i for i in rule.DEFAULT_ITEMS}
    while form.items.entries:
        form.items.pop_entry()
    for code, kind in rule.KINDS.items():
        item = used.get(code) or defaults.get(code) or {"points": 0, "cap": None}
        form.items.append_entry(
            {
                "kind": code,
                "used": code in used,
                "label": item.get("label") or kind.label,
                "points": item.get("points", 0),
                "cap": item.get("cap"),
            }
        )


def _one_row_per_kind(form: forms.SchemeForm) -> None:
    """The posted rows, one per kind in the tracker's order whatever was posted: a row's
    kind is its place (a missing row is not scored, an extra one is dropped)."""
    while len(form.items.entries) > len(rule.KINDS):
        form.items.pop_entry()
    for n, code in enumerate(rule.KINDS):
        if n < len(form.items.entries):
            form.items.entries[n].form.kind.data = code
        else:
            form.items.append_entry({"kind": code, "used": False})


def _items(form: forms.SchemeForm) -> list[dict]:
    out = []
    for entry in form.items.entries:
        f = entry.form
        if not f.used.data:
            continue
        out.append(
            {
                "kind": f.kind.data,
                "label": (f.label.data or "").strip(),
                "points": f.points.data,
                "cap": f.cap.data,
            }
        )
    return out


def _channels(text: str) -> list[str]:
    parts = text.replace("，", "、").replace(",", "、").split("、")
    return [p.strip() for p in parts if p.strip()]


@bp.route("/admin/assessment", methods=["GET", "POST"])
@login_required
def scheme():
    if not svc.can_edit_scheme(current_user):
        abort(403)
    form = forms.SchemeForm()
    if request.method == "GET":
        _fill(form)
    else:
        _one_row_per_kind(form)

    def action():
        saved = svc.save_scheme(
            current_user,
            name=form.name.data,
            source=form.source.data or "",
            items=_items(form),
            in_person_channels=_channels(form.in_person_channels.data or ""),
        )
        return f"已保存考评方案（第{saved.version}版）。", url_for("assessment.scheme")

    channels = [t.code for t in vocab.terms("contact_channel")]
    return perform(
        form,
        action,
        failed=lambda status: (
            render_template(
                "assessment/scheme.html",
                form=form,
                kinds=rule.KINDS,
                versions=svc.versions(),
                channels=channels,
                rate_kinds=[k for k, v in rule.KINDS.items() if v.mode == "rate"],
                years=svc.finalized_years(),
            ),
            status,
        ),
    )
