"""Error pages in Chinese, with no stack trace; JSON for clients that ask for it; problem
details (RFC 9457, application/problem+json) for every answer of the API under /api/."""

from __future__ import annotations

import json

from flask import Flask, Response, jsonify, render_template, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, InternalServerError

from tracker.views_common import Refused, rollback

MESSAGES = {
    400: ("请求无效", "提交的内容无法处理，请返回重试。"),
    403: ("没有权限", "您没有权限访问此页面。"),
    404: ("页面不存在", "找不到您要访问的页面或记录。"),
    405: ("请求方式不允许", "此页面不支持该请求方式。"),
    401: ("未认证", "请求须带有效的 API 令牌。"),
    409: ("记录已存在", "要新建的记录已经存在。"),
    413: ("文件过大", "上传的文件超过了允许的大小。"),
    415: ("内容类型不支持", "请求内容须为 JSON（Content-Type: application/json）。"),
    422: ("请求内容未通过校验", "请求的参数或内容有误。"),
    429: ("请求过于频繁", "此令牌的请求次数已达上限，请稍后再试。"),
    500: ("系统错误", "服务器处理请求时出错，请稍后再试。错误已记录。"),
}


PROBLEM_TYPES = {  # the problems a client tells apart beyond the status code
    401: "urn:tracker:problem:token",
    422: "urn:tracker:problem:validation",
    429: "urn:tracker:problem:rate-limit",
}
REFUSED = ("urn:tracker:problem:refused", "请求未被受理")  # a business rule said no (422)
HEADERS_KEPT = ("WWW-Authenticate", "Retry-After", "Allow")


def is_api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def problem(
    code: int,
    detail: str | None = None,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    kind: tuple[str, str] | None = None,
) -> Response:
    """An API error as problem details: a Chinese title, the status, what went wrong;
    ``kind`` gives a type and title of its own."""
    title, message = MESSAGES.get(code, ("出错了", "请求未能完成。"))
    type_ = PROBLEM_TYPES.get(code, "about:blank")
    if kind is not None:
        type_, title = kind
    body = {
        "type": type_,
        "title": title,
        "status": code,
        "detail": detail or message,
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    response = Response(
        json.dumps(body, ensure_ascii=False), status=code, mimetype="application/problem+json"
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _http_problem(error: HTTPException) -> Response:
    code = error.code or 500
    custom = error.description != type(error).description  # a reason the code gave
    kept = {k: v for k, v in error.get_headers() if k in HEADERS_KEPT}
    return problem(
        code,
        error.description if custom and code != 500 else None,
        errors=getattr(error, "errors", None),
        headers=kept,
        kind=REFUSED if isinstance(error, Refused) and code == 422 else None,
    )


# pydantic's error types in Chinese ({…} from the error's context); others keep its message
FIELD_MESSAGES = {
    "missing": "缺少此项。",
    "greater_than_equal": "须不小于 {ge}。",
    "greater_than": "须大于 {gt}。",
    "less_than_equal": "须不大于 {le}。",
    "less_than": "须小于 {lt}。",
    "string_too_short": "至少 {min_length} 个字符。",
    "string_too_long": "最多 {max_length} 个字符。",
    "string_pattern_mismatch": "不能含有 NUL 字符。",
    "string_type": "须为文字。",
    "literal_error": "须为以下之一：{expected}。",
    "int_parsing": "须为整数。",
    "int_type": "须为整数。",
    "int_from_float": "须为整数。",
    "bool_parsing": "须为 true 或 false。",
    "bool_type": "须为 true 或 false。",
    "date_parsing": "须为日期（YYYY-MM-DD）。",
    "date_from_datetime_parsing": "须为日期（YYYY-MM-DD）。",
    "date_type": "须为日期（YYYY-MM-DD）。",
    "datetime_parsing": "须为时间（ISO 8601，如 2026-06-14T00:00:00+08:00）。",
    "datetime_from_date_parsing": "须为时间（ISO 8601，如 2026-06-14T00:00:00+08:00）。",
    "datetime_type": "须为时间（ISO 8601）。",
    "model_type": "须为 JSON 对象。",
    "model_attributes_type": "须为 JSON 对象。",
    "dict_type": "须为 JSON 对象。",
    "list_type": "须为列表。",
    "too_long": "最多 {max_length} 项。",
    "too_short": "至少 {min_length} 项。",
}


def _field_message(item: dict) -> str:
    template = FIELD_MESSAGES.get(item["type"])
    if template is None:
        return item["msg"].removeprefix("Value error, ")
    try:
        return template.format(**(item.get("ctx") or {}))
    except (KeyError, IndexError):
        return item["msg"]


def validation_problem(error: ValidationError) -> Response:
    """flask-openapi3's answer to a request its models refuse: 422, each field's error."""
    errors = [
        {
            "field": ".".join(str(part) for part in item["loc"]) or "body",
            "message": _field_message(item),
        }
        for item in error.errors(include_url=False, include_input=False)
    ]
    return problem(422, "请求的参数或内容有误，见 errors。", errors=errors)


def _render(code: int, detail: str | None = None):
    if is_api():
        return problem(code, detail)
    title, message = MESSAGES.get(code, ("出错了", "请求未能完成。"))
    if request.accept_mimetypes.best == "application/json":
        return jsonify(error=title, message=detail or message), code
    return render_template(
        "errors/error.html", code=code, title=title, message=detail or message
    ), code


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if is_api():
            return _http_problem(error)
        detail = (
            error.description if error.code == 400 and "CSRF" in str(error.description) else None
        )
        if detail:
            detail = "表单已过期或缺少安全令牌（CSRF），请刷新页面后重试。"
        return _render(error.code or 500, detail)

    @app.errorhandler(InternalServerError)
    def _server_error(error):
        rollback()
        return _render(500)

    @app.errorhandler(Exception)
    def _unhandled(error: Exception):
        if isinstance(error, HTTPException):
            return _http_error(error)
        app.logger.exception("unhandled error")
        rollback()
        return _render(500)
