"""What the API takes and answers, as pydantic models: flask-openapi3 validates requests
with them and writes the OpenAPI 3.1 document from their JSON Schema (2020-12)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from tracker.models import MAX_ID
from tracker.rules.labels import COMMITMENT_STATUS, PROPOSAL_KINDS, PROPOSAL_STATUS
from tracker.search.base import FACETS

MAX_PER_PAGE = 100
MAX_PAGE = 10**6


def _naive_utc(value: datetime) -> datetime:
    """A time as the database keeps it: UTC, without a zone (no zone given: UTC)."""
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise ValueError("时间超出范围。") from None


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _iso_text(value: object) -> object:
    """Dates and times as ISO 8601 text only (pydantic would also read a number as seconds
    since 1970: not what a caller meant)."""
    if isinstance(value, str) and ISO_DATE.match(value.strip()):
        return value
    if isinstance(value, date):
        return value
    raise ValueError("须为 ISO 8601 日期或时间（如 2026-06-14 或 2026-06-14T00:00:00+08:00）。")


def _true_or_false(value: object) -> object:
    """A flag as the document says: true or false (not yes, on, 1)."""
    if isinstance(value, bool) or value in ("true", "false"):
        return value
    raise ValueError("须为 true 或 false。")


Day = Annotated[date, BeforeValidator(_iso_text)]
Flag = Annotated[bool, BeforeValidator(_true_or_false)]
Since = Annotated[
    datetime,
    BeforeValidator(_iso_text),
    AfterValidator(_naive_utc),
    Field(
        description="只列出此时间之后有变化的记录（ISO 8601，如 2026-06-14T00:00:00+08:00；"
        "不带时区按 UTC）。结果按变化时间先后排列，下次轮询用响应里的 as_of。"
    ),
]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Absent = SkipJsonSchema[None]  # a query argument left out (the document says no "null")
# text without NUL (PostgreSQL refuses it in a text column)
NO_NUL = r"^[^\x00]*$"


def _text(max_length: int, *, min_length: int = 0, description: str | None = None, **kwargs):
    return Field(
        min_length=min_length,
        max_length=max_length,
        pattern=NO_NUL,
        description=description,
        **kwargs,
    )


def _filter(max_length: int, *, description: str | None = None):
    """An optional text filter of a query: empty or absent, not filtered."""
    return _text(max_length, description=description, default="")


# -- problem details (RFC 9457) -----------------------------------------------------------


class FieldError(BaseModel):
    field: str = Field(description="出错的字段，如 query.page、body.rows.3.number")
    message: str


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (application/problem+json)."""

    type: str = Field(description="问题类型的 URI；about:blank 表示按 HTTP 状态码理解")
    title: str = Field(description="问题的简短说明（中文）")
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = Field(None, description="校验失败时每个字段的错误")


# -- paths and queries ----------------------------------------------------------------------


class ProposalPath(BaseModel):
    proposal_id: Id


class LetterPath(BaseModel):
    letter_id: Id


class ExportPath(BaseModel):
    letter_id: Id
    fmt: Literal["docx", "pdf", "html"]


class CommitmentPath(BaseModel):
    commitment_id: Id


class QueryArgs(BaseModel):
    """A query string's model. flask-openapi3 asks for its JSON Schema on every request
    (whether a field is a list) and Pydantic builds it anew each time: 0.2–0.65 ms of a
    list request. The schema asked for with no arguments (the request's) is built
    once per model; asked for with arguments (the document's), as Pydantic builds it.
    The cached schema is read, never changed, by the request's validation."""

    @classmethod
    def model_json_schema(cls, *args, **kwargs) -> dict[str, Any]:
        if args or kwargs:
            return super().model_json_schema(*args, **kwargs)
        schema = _QUERY_SCHEMAS.get(cls)
        if schema is None:
            schema = _QUERY_SCHEMAS[cls] = super().model_json_schema()
        return schema


_QUERY_SCHEMAS: dict[type[QueryArgs], dict[str, Any]] = {}


class PageQuery(QueryArgs):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="页码，从 1 开始")
    per_page: int = Field(25, ge=1, le=MAX_PER_PAGE, description="每页条数")
    updated_since: Since | Absent = None


class ProposalQuery(PageQuery):
    q: str = _filter(200, description="标题中须包含的词（空格分隔，全部包含）")
    session: Id | Absent = Field(None, description="会议 id")
    kind: Literal[PROPOSAL_KINDS] | Absent = None  # type: ignore[valid-type]
    status: Literal[tuple(PROPOSAL_STATUS)] | Absent = None  # type: ignore[valid-type]
    classification: str = _filter(16, description="答复类别代码，如 A")
    unit: Id | Absent = Field(None, description="承办单位 id（见 /units）：该单位在办的")
    overdue: Flag = Field(False, description="只列超期未办结的")


class LetterQuery(PageQuery):
    sent_since: Day | Absent = Field(
        None, description="只列此日期（含）以后发出的答复函（发文日期，导入的按成文日期）"
    )
    proposal: Id | Absent = Field(None, description="建议/提案 id")


class SearchQueryArgs(QueryArgs):
    q: str = _text(200, min_length=1, description="检索词，与检索页相同")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(20, ge=1, le=MAX_PER_PAGE)
    sort: Literal["relevance", "date"] = "relevance"
    year: str = _filter(10)
    session: str = _filter(80)
    kind: str = _filter(4)
    issuer: str = _filter(120)
    classification: str = _filter(16)

    def filters(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FACETS if getattr(self, name)}


class CommitmentQuery(PageQuery):
    status: Literal[tuple(COMMITMENT_STATUS)] | Absent = None  # type: ignore[valid-type]
    unit: Id | Absent = Field(None, description="责任单位 id")
    overdue: Flag = False


# -- answers ----------------------------------------------------------------------------------


class Unit(BaseModel):
    id: int
    name: str
    short_names: list[str]
    is_coordinating: bool


class UnitList(BaseModel):
    items: list[Unit]


class Assignment(BaseModel):
    unit_id: int
    unit: str
    role: Literal["lead", "co", "separate"]
    role_label: str
    round: int
    active: bool
    assigned_on: date
    due_on: date = Field(description="答复期限（主办、分办）或会办意见期限（会办）")
    max_due_on: date | None
    signed_for_at: datetime | None
    replied_on: date | None
    opinion_on: date | None
    overdue: bool


class Contact(BaseModel):
    contacted_on: date
    channel: str
    channel_label: str
    phase: str
    phase_label: str
    unit: str | None
    participants: str
    summary: str


class LetterSummary(BaseModel):
    id: int
    title: str | None
    status: str
    status_label: str
    issuer: str | None
    doc_number: str | None
    classification: str | None
    letter_on: date | None
    issued_on: date | None
    disclosure: str | None
    proposal_id: int | None
    updated_at: datetime


class Rating(BaseModel):
    round: int
    satisfaction: str
    satisfaction_label: str
    rated_on: date
    comment: str


class ProposalSummary(BaseModel):
    id: int
    session_id: int
    session: str
    kind: str
    number: str
    title: str
    lead_proposer: str
    co_signers: list[str]
    status: str
    status_label: str
    is_key: bool
    round: int
    classification: str | None
    submitted_on: date | None
    assigned_on: date | None
    due_on: date | None = Field(description="本轮答复期限（主办、分办单位中最早的）")
    overdue: bool
    lead_units: list[str]
    co_units: list[str]
    separate_units: list[str]
    created_at: datetime
    updated_at: datetime


class Proposal(ProposalSummary):
    proposer_kind: str
    content: str
    assignments: list[Assignment]
    contacts: list[Contact]
    replies: list[LetterSummary] = Field(description="可见的已发出答复函")
    ratings: list[Rating]


class Page(BaseModel):
    page: int
    per_page: int
    total: int
    pages: int
    as_of: datetime = Field(description="查询时的服务器时间：下次轮询的 updated_since")


class ProposalPage(Page):
    items: list[ProposalSummary]


class Export(BaseModel):
    format: Literal["docx", "pdf", "html"]
    url: str


class Letter(LetterSummary):
    unit_id: int | None
    addressee: str | None
    proposal_kind: str | None
    session_name: str | None
    proposal_number: str | None
    proposal_title: str | None
    proposers: list[str]
    published_at: datetime | None
    co_units: list[str]
    cc: list[str]
    contact_person: str | None
    contact_phone: str | None
    text: str = Field(description="正文（起草的为 Markdown，导入的为纯文本）")
    exports: list[Export]


class LetterPage(Page):
    items: list[LetterSummary]


class SearchHit(BaseModel):
    letter_id: int
    title: str
    doc_number: str | None
    proposal_number: str | None
    issuer: str | None
    letter_date: date | None
    source: str | None
    score: float
    snippet: str = Field(description="摘要（HTML 已转义，命中词以 <mark> 标出）")


class SearchResult(BaseModel):
    q: str
    page: int
    per_page: int
    total: int
    pages: int
    error: str | None = Field(description="检索式无法识别时的说明")
    items: list[SearchHit]


class Progress(BaseModel):
    noted_on: date
    note: str
    evidence_url: str | None
    has_evidence_file: bool


class CommitmentSummary(BaseModel):
    id: int
    text: str
    target: str | None
    due_on: date | None
    status: str = Field(description="状态；超期未完成的为 overdue")
    status_label: str
    unit_id: int | None
    unit: str | None
    letter_id: int | None
    proposal_id: int | None
    proposal_number: str | None
    updated_at: datetime


class Commitment(CommitmentSummary):
    section: str | None
    drop_reason: str | None
    done_on: date | None
    reported_back_on: date | None
    progress: list[Progress]


class CommitmentPage(Page):
    items: list[CommitmentSummary]


# -- registering (the batch service's rows: services/proposal_batch.py) ----------------------

MAX_BATCH = 2000
Name = Annotated[str, _text(120, min_length=1)]


class ProposalIn(BaseModel):
    """One proposal of a 交办清单, as a row of the 批量导入 list: what is absent or null is
    not given (an existing proposal keeps it). Units named here are assigned on
    ``assigned_on``."""

    model_config = ConfigDict(str_strip_whitespace=True)

    number: str = _text(32, min_length=1, description="编号，如 20222174")
    title: str = _text(300, min_length=1)
    kind: Literal[PROPOSAL_KINDS] | None = Field(  # type: ignore[valid-type]
        None, description="类别；不填时政协会议为提案，其余为建议"
    )
    session: str | None = _text(
        80, min_length=1, default=None, description="届次（会议名称），如 市十六届人大一次会议"
    )
    lead_proposer: str | None = _text(120, min_length=1, default=None, description="领衔人")
    co_signers: list[Name] | None = Field(None, max_length=200, description="联名/附议人")
    delegation: str | None = _text(80, default=None, description="代表团/界别/党派")
    submitted_on: Day | None = None
    lead_units: list[Name] | None = Field(None, max_length=10, description="主办单位（全称或简称）")
    co_units: list[Name] | None = Field(None, max_length=50, description="会办单位")
    separate_units: list[Name] | None = Field(None, max_length=50, description="分办单位")
    assigned_on: Day | None = Field(None, description="交办日期")
    is_key: Flag | None = Field(None, description="重点建议/重点督办")
    content: str | None = _text(20000, default=None, description="内容摘要")


class ProposalCreate(ProposalIn):
    """One proposal to register (POST /proposals): its session and lead proposer given."""

    session: str = _text(80, min_length=1, description="届次（会议名称），如 市十六届人大一次会议")
    lead_proposer: str = _text(120, min_length=1, description="领衔人")


class BatchIn(BaseModel):
    """A 交办清单 from the congress office's (or CPPCC's) system."""

    model_config = ConfigDict(str_strip_whitespace=True)

    session: str | None = _text(
        80, min_length=1, default=None, description="未写届次的行所属的会议"
    )
    assign_on: Day | None = Field(None, description="列了承办单位而未写交办日期的行的交办日期")
    rows: list[ProposalIn] = Field(min_length=1, max_length=MAX_BATCH)


class BatchQuery(QueryArgs):
    dry_run: Flag = Field(False, description="只检查、不保存（预览）")


class BatchRow(BaseModel):
    line: int = Field(description="行号：rows 中的第几项，从 1 开始")
    number: str | None
    session: str | None = Field(description="所属会议")
    action: Literal["new", "update", "unchanged", "refused", "error"]
    action_label: str = Field(description="新增、更新、无变化、不予更新（已过交办阶段）、有错误")
    errors: list[str]
    changes: list[str]
    proposal_id: int | None = Field(description="已有的或新登记的建议提案 id（预览时新行为空）")


class BatchResult(BaseModel):
    dry_run: bool
    summary: str
    counts: dict[str, int]
    rows: list[BatchRow]
