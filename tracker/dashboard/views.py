"""The supervisor's view (督办统计): replies on time, grades, satisfaction, commitments.

Coordinating-office supervisors, liaisons and the admin see every handling unit and may pick
one; a unit's supervisor sees their own unit only (asking for another is refused); clerks
are refused. Every number on the page links to the list behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from itertools import cycle, groupby
from urllib.parse import quote

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required

from tracker import downloads
from tracker.current import today
from tracker.dashboard.forms import FilterForm
from tracker.extensions import db
from tracker.formutil import options
from tracker.models import Unit
from tracker.paging import paginate
from tracker.services import assessment, permissions
from tracker.services import dashboard as stats
from tracker.services.tabular import Sheet

bp = Blueprint("dashboard", __name__)

PER_PAGE = 50

# chart colours: blue/orange/dark red stay apart for red-green colour blindness
ON_TIME, LATE, OVERDUE = "#2e6fbe", "#f0a23b", "#b42318"
GRADE_COLORS = ["#2e6fbe", "#4fa3a5", "#f0a23b", "#8a63b8", "#6b7c93", "#c2703d"]
UNGRADED_COLOR = "#b8bfc9"
SATISFACTION_COLORS = ["#2e6fbe", "#7fb2e5", "#4fa3a5", "#6b7c93"]
UNHAPPY_COLOR = "#b42318"
COMMITMENT_COLORS = {
    "c_done": "#2e6fbe",
    "c_overdue": "#b42318",
    "c_dropped": "#8a8f98",
    "c_open": "#c9d9ee",
    "c_in_progress": "#7fb2e5",
}


@dataclass
class Filters:
    """The validated filters: period, the chosen unit, the units the viewer may see."""

    period: stats.Period
    unit: Unit | None
    visible: list[int] | None  # None: every unit

    @property
    def unit_ids(self) -> list[int] | None:
        """The units the numbers are for."""
        return [self.unit.id] if self.unit is not None else self.visible

    def args(self) -> dict[str, str]:
        """The query-string form of the filters, for links."""
        args = {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()}
        if self.unit is not None:
            args["unit"] = str(self.unit.id)
        return args


def _selectable_units(fixed: Unit | None) -> list[Unit]:
    """Units one may pick: every handling unit (an inactive one keeps its past numbers)."""
    return [fixed] if fixed is not None else stats.handling_units()


def _filters() -> tuple[FilterForm, Filters | None]:
    """Check the viewer, read the filters; on a bad filter the form carries the errors."""
    if not permissions.can_view_dashboard(current_user):
        abort(403)
    fixed: Unit | None = None
    if not permissions.sees_all(current_user):
        fixed = current_user.unit
        if fixed is None:
            abort(403)
        asked = request.args.get("unit", "").strip()
        if asked and asked != str(fixed.id):
            abort(403)
    form = FilterForm(request.args)
    units = _selectable_units(fixed)
    requested = request.args.get("unit", "")
    choices = [(str(u.id), u.name) for u in units if u.active or str(u.id) == requested]
    form.unit.choices = options(choices if fixed else [("", "全部承办单位"), *choices])
    if fixed is not None:
        form.unit.data = str(fixed.id)
    ok = form.validate()
    unit = fixed
    if fixed is None and form.unit.data:
        unit = next((u for u in units if str(u.id) == form.unit.data), None)
        if unit is None:
            form.unit.errors = [*form.unit.errors, "请选择有效的单位。"]
            ok = False
    now = today()
    start, end = form.date_from.data, form.date_to.data
    end = end or now
    start = start or date(end.year, 1, 1)
    if ok and start > end:
        form.date_to.errors = [*form.date_to.errors, "开始日期不能晚于结束日期。"]
        ok = False
    if not ok:
        return form, None
    form.date_from.data, form.date_to.data = start, end
    form.date_from.raw_data = form.date_to.raw_data = None  # show the defaults
    visible = [fixed.id] if fixed is not None else None
    return form, Filters(stats.Period(start, end), unit, visible)


def _bad_filters(form: FilterForm):
    return render_template("dashboard/index.html", form=form, board=None), 400


def _period_links(now: date) -> list[tuple[str, dict[str, str]]]:
    unit = {"unit": request.args["unit"]} if request.args.get("unit") else {}
    this_year = {"from": date(now.year, 1, 1).isoformat(), "to": now.isoformat()}
    last_year = {
        "from": date(now.year - 1, 1, 1).isoformat(),
        "to": date(now.year - 1, 12, 31).isoformat(),
    }
    return [("本年度", {**this_year, **unit}), ("上一年度", {**last_year, **unit})]


class Links:
    """URLs behind the numbers, for one set of filters."""

    def __init__(self, filters: Filters, now: date):
        self.filters = filters
        self.now = now
        self._paths: dict[str, str] = {}
        self._quoted: dict[str, str] = {}
        self._around_unit: dict[str, tuple[str, str] | None] = {}

    def _url(self, endpoint: str, args: dict[str, str]) -> str:
        """url_for(endpoint, **args), the route built once and each name and value quoted
        once (as urlencode(args, quote_via=quote) would): the league table links every
        number of every unit, thousands of links of the same few dates, metrics and units
        (building each took most of the page, then quoting them a quarter of it)."""
        if endpoint not in self._paths:
            self._paths[endpoint] = url_for(endpoint)
        quoted = self._quoted
        for text in (*args, *args.values()):
            if text not in quoted:
                quoted[text] = quote(text, safe="")
        query = "&".join(f"{quoted[k]}={quoted[v]}" for k, v in args.items())
        return f"{self._paths[endpoint]}?{query}"

    @cached_property
    def _args(self) -> dict[str, str]:
        """The filters' query arguments, read for every link: the filters do not change."""
        return self.filters.args()

    def _unit_args(self, unit_id: int | None) -> dict[str, str]:
        args = dict(self._args)
        if unit_id is not None:
            args["unit"] = str(unit_id)
        return args

    def unit_page(self, unit_id: int) -> str:
        """The dashboard of one unit for the same period (a league table row's name)."""
        period = {"from": self._args["from"], "to": self._args["to"]}
        return self._url("dashboard.index", {"unit": str(unit_id), **period})

    def items(self, metric: str, code: str | None = None, unit_id: int | None = None) -> str:
        args = self._unit_args(unit_id)
        if code is not None:
            args["code"] = code
        return self._url("dashboard.items", {"metric": metric, **args})

    def commitments(self, key: str, unit_id: int | None = None) -> str:
        start, end = stats.commitment_range(key, self.filters.period, self.now)
        args = {
            "status": stats.COMMITMENT_LINKS[key],
            "due_from": start.isoformat(),
            "due_to": end.isoformat(),
        }
        unit = unit_id if unit_id is not None else getattr(self.filters.unit, "id", None)
        if unit is not None:
            args["unit"] = str(unit)
        return self._url("commitments.index", args)

    def cell(self, column: stats.Column, unit_id: int | None = None) -> str | None:
        """The link behind a column's number, of one unit or (None) of the filters. A
        unit's is the column's link with the unit's id put in: the league table links
        every column of every unit (thousands of links, the most of its rendering)."""
        if unit_id is None:
            return self._cell(column, None)
        if column.key not in self._around_unit:
            url = self._cell(column, _ANY_UNIT)
            parts = url.split(f"unit={_ANY_UNIT}") if url else []
            self._around_unit[column.key] = (
                (parts[0] + "unit=", parts[1]) if len(parts) == 2 else None
            )
        around = self._around_unit[column.key]
        if around is None:
            return self._cell(column, unit_id)
        return f"{around[0]}{unit_id}{around[1]}"

    def _cell(self, column: stats.Column, unit_id: int | None) -> str | None:
        if column.commitment is not None:
            return self.commitments(column.key, unit_id)
        if column.metric is not None:
            return self.items(column.metric, column.code, unit_id)
        return None


_ANY_UNIT = -1  # no unit's id: marks where a unit's id goes in a link (Links.cell)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _charts(board: stats.Dashboard, rows: list[dict], links: Links) -> dict[str, list[dict]]:
    """What the charts draw, in the order of the tables beside them."""
    t = board.totals
    replies = [
        {"label": "按时答复", "value": t["on_time"], "color": ON_TIME, "metric": "on_time"},
        {"label": "逾期答复", "value": t["late"], "color": LATE, "metric": "late"},
        {
            "label": "逾期未答复",
            "value": t["overdue_unreplied"],
            "color": OVERDUE,
            "metric": "overdue_unreplied",
        },
    ]
    for item in replies:
        item["href"] = links.items(item["metric"])
    grades = [
        {
            "label": g.label,
            "value": t.get(f"grade:{g.code}", 0),
            "color": UNGRADED_COLOR
            if g.code == stats.UNGRADED
            else GRADE_COLORS[i % len(GRADE_COLORS)],
            "href": links.items("grade", g.code),
        }
        for i, g in enumerate(board.grades)
    ]
    happy = cycle(SATISFACTION_COLORS)
    satisfaction = [
        {
            "label": s.label,
            "value": t.get(f"sat:{s.code}", 0),
            "color": UNHAPPY_COLOR if s.flag else next(happy),
            "href": links.items("satisfaction", s.code),
        }
        for s in board.satisfactions
    ]
    commitments = [
        {
            "label": stats.COMMITMENT_LABELS[key],
            "value": t[key],
            "color": color,
            "href": links.commitments(key),
        }
        for key, color in COMMITMENT_COLORS.items()
    ]
    units = [
        {
            "label": r["short_name"],
            "total": r["reply_total"],
            "note": f"按时率{_pct(r['on_time_rate'])}",
            "segments": [
                {
                    "label": item["label"],
                    "value": r[item["metric"]],
                    "color": item["color"],
                    "href": links.items(item["metric"], unit_id=r["unit_id"]),
                }
                for item in replies
            ],
        }
        for r in rows
        if r["reply_total"]
    ]
    return {
        "replies": replies,
        "grades": grades,
        "satisfaction": satisfaction,
        "commitments": commitments,
        "units": units,
    }


def _column_groups(columns: list[stats.Column]) -> list[tuple[str, int]]:
    """Consecutive columns of one group, for the table's first header row."""
    return [(name, len(list(cols))) for name, cols in groupby(columns, key=lambda c: c.group)]


def _sort(board: stats.Dashboard) -> tuple[str, str]:
    keys = {c.key for c in board.columns}
    sort = request.args.get("sort", "")
    if sort not in keys:
        sort = "on_time_rate"
    direction = request.args.get("dir", "")
    if direction not in ("asc", "desc"):
        direction = "asc" if sort == "unit" else "desc"
    return sort, direction


def _active(row: dict, chosen: Unit | None) -> bool:
    """A unit with something counted in the period (or the unit asked for)."""
    if chosen is not None and row["unit_id"] == chosen.id:
        return True
    return any(
        isinstance(value, int | float) and value for key, value in row.items() if key != "unit_id"
    )


@dataclass(frozen=True)
class LeagueRow:
    """A row of the league table as the page shows it: each cell's (kind, link, text,
    class), decided here once for the table's thousands of cells (written out by the
    template's loop, the decisions per cell took a fifth of the page's CPU)."""

    selected: bool
    cells: list[tuple[str, str | None, object, str]]


def _league_table(
    rows: list[dict], columns: list[stats.Column], links: Links, chosen: Unit | None
) -> list[LeagueRow]:
    table = []
    for r in rows:
        unit_id = r["unit_id"]
        cells: list[tuple[str, str | None, object, str]] = []
        for c in columns:
            if c.kind == "text":
                cells.append(("text", links.unit_page(unit_id), r[c.key], ""))
            elif c.kind == "rate":
                rate = r[c.key]  # None: nothing to rate, and no list behind it
                link = links.cell(c, unit_id) if rate is not None else None
                cells.append(("rate", link, _pct(rate), "num" if rate is not None else "num zero"))
            else:
                # a zero is not a link: its list is empty, and the table's 1,000 zeros (at
                # 100,000 letters) were 1,000 stops for the keyboard and a third of the page
                n = r.get(c.key, 0)
                cells.append(
                    ("count", links.cell(c, unit_id) if n else None, n, "num" if n else "num zero")
                )
        table.append(LeagueRow(chosen is not None and unit_id == chosen.id, cells))
    return table


def _league_rows(board: stats.Dashboard) -> tuple[list[dict], int]:
    """The league table's rows: units with nothing in the period are left out unless
    ``all_units`` is asked for (an imported corpus brings in many units from elsewhere).
    Returns the rows and how many were left out."""
    if request.args.get("all_units"):
        return board.rows, 0
    shown = [r for r in board.rows if _active(r, board.unit)]
    return shown, len(board.rows) - len(shown)


@bp.route("/dashboard")
@login_required
def index():
    form, filters = _filters()
    if filters is None:
        return _bad_filters(form)
    now = today()
    board = stats.build(filters.period, now, unit=filters.unit, visible_units=filters.visible)
    sort, direction = _sort(board)
    shown, idle = _league_rows(board)
    rows = stats.sort_rows(shown, sort, direction == "desc")
    links = Links(filters, now)
    return render_template(
        "dashboard/index.html",
        form=form,
        board=board,
        rows=rows,
        league=_league_table(rows, board.columns, links, board.unit),
        sort=sort,
        direction=direction,
        filters=filters,
        args=filters.args(),
        links=links,
        charts=_charts(board, rows, links),
        groups=_column_groups(board.columns),
        period_links=_period_links(now),
        idle=idle,
        rates=assessment.platform_rates(filters.period, filters.unit_ids),
    )


def _metric() -> tuple[str, str | None]:
    metric = request.args.get("metric", "")
    if metric not in stats.METRICS:
        abort(404)
    code = request.args.get("code") or None
    if stats.METRICS[metric].needs_code and not code:
        abort(404)
    return metric, code


def _item_title(metric: str, code: str | None) -> str:
    label = stats.METRICS[metric].label
    if code is None:
        return label
    vocabulary = "classification" if metric == "grade" else "satisfaction"
    names = {c.code: c.label for c in stats.vocab_labels(vocabulary)}
    names[stats.UNGRADED] = "未分类"
    return f"{label}：{names.get(code, code)}"


@bp.route("/dashboard/items")
@login_required
def items():
    form, filters = _filters()
    metric, code = _metric()
    if filters is None:
        return _bad_filters(form)
    now = today()
    query = stats.item_query(metric, code, filters.period, now, filters.unit_ids)
    page = paginate(query, per_page=PER_PAGE)
    family = stats.METRICS[metric].family
    args = {**filters.args(), "metric": metric}
    if code is not None:
        args["code"] = code
    return render_template(
        "dashboard/items.html",
        title=_item_title(metric, code),
        headers=stats.HEADERS[family],
        links=stats.LINKS[family],
        rows=stats.item_rows(metric, list(page.items), now),
        page=page,
        args=args,
        filters=filters,
    )


# -- exports -------------------------------------------------------------------------------


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _scope_label(filters: Filters) -> str:
    return filters.unit.name if filters.unit is not None else "全部承办单位"


def _overview_sheet(board: stats.Dashboard, filters: Filters) -> Sheet:
    t = board.totals
    rows: list[list] = [
        ["统计期间", f"{filters.period.start.isoformat()} 至 {filters.period.end.isoformat()}"],
        ["单位", _scope_label(filters)],
        ["应答复", t["reply_total"]],
        ["按时答复", t["on_time"]],
        ["逾期答复", t["late"]],
        ["逾期未答复", t["overdue_unreplied"]],
        ["按时答复率（%）", _rate(t["on_time_rate"])],
        ["答复函", t["letters"]],
    ]
    rows += [[f"答复类别：{g.label}", t.get(f"grade:{g.code}", 0)] for g in board.grades]
    rows += [["已评价", t["rated"]]]
    rows += [[f"满意度：{s.label}", t.get(f"sat:{s.code}", 0)] for s in board.satisfactions]
    rows += [["满意率（%）", _rate(t["sat_rate"])]]
    rows += [[f"承诺事项：{label}", t[key]] for key, label in stats.COMMITMENT_LABELS.items()]
    rows += [[board.followup_label, t["b_nofollow"]], ["重新办理", t["rehandled"]]]
    return Sheet("概览", ["指标", "数值"], rows)


def _league_sheet(board: stats.Dashboard, rows: list[dict]) -> Sheet:
    headers = []
    for c in board.columns:
        label = c.label if c.group in ("", "答复及时性") else f"{c.group}：{c.label}"
        headers.append(f"{label}（%）" if c.kind == "rate" else label)
    values = [
        [_rate(r.get(c.key)) if c.kind == "rate" else r.get(c.key, 0) for c in board.columns]
        for r in rows
    ]
    return Sheet("单位排名", headers, values)


def _items_sheet(title: str, metric: str, filters: Filters, now: date) -> Sheet:
    query = stats.item_query(metric, None, filters.period, now, filters.unit_ids)
    objects = list(db.session.execute(query).unique().scalars())
    family = stats.METRICS[metric].family
    rows = [r.cells for r in stats.item_rows(metric, objects, now)]
    return Sheet(title, stats.HEADERS[family], rows)


def _filename(prefix: str, filters: Filters) -> str:
    p = filters.period
    return f"{prefix}_{_scope_label(filters)}_{p.start.isoformat()}_{p.end.isoformat()}"


@bp.route("/dashboard/export.<any(xlsx, csv):fmt>")
@login_required
def export(fmt: str):
    form, filters = _filters()
    if filters is None:
        return _bad_filters(form)
    now = today()
    board = stats.build(filters.period, now, unit=filters.unit, visible_units=filters.visible)
    sort, direction = _sort(board)
    league = _league_sheet(
        board, stats.sort_rows(_league_rows(board)[0], sort, direction == "desc")
    )
    if fmt == "csv":
        return downloads.table(league, fmt, _filename("督办统计_单位排名", filters))
    sheets = [
        _overview_sheet(board, filters),
        league,
        _items_sheet("按时答复情况", "reply_total", filters, now),
        _items_sheet("答复类别", "letters", filters, now),
        _items_sheet("代表满意度", "rated", filters, now),
        _items_sheet("未跟踪落实", "b_nofollow", filters, now),
        _items_sheet("重新办理", "rehandled", filters, now),
        Sheet(
            "承诺事项",
            stats.COMMITMENT_HEADERS,
            stats.commitment_rows(filters.period, now, filters.unit_ids),
        ),
    ]
    return downloads.table(sheets, fmt, _filename("督办统计", filters))


@bp.route("/dashboard/items/export.<any(xlsx, csv):fmt>")
@login_required
def items_export(fmt: str):
    form, filters = _filters()
    metric, code = _metric()
    if filters is None:
        return _bad_filters(form)
    now = today()
    query = stats.item_query(metric, code, filters.period, now, filters.unit_ids)
    objects = list(db.session.execute(query).unique().scalars())
    family = stats.METRICS[metric].family
    title = _item_title(metric, code)
    sheet = Sheet(
        title.replace("：", " "),
        stats.HEADERS[family],
        [r.cells for r in stats.item_rows(metric, objects, now)],
    )
    return downloads.table(sheet, fmt, _filename(f"督办统计_{title.replace('：', '_')}", filters))
