"""Error pages in Chinese, with no stack trace; JSON for clients that ask for it."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from tracker.views_common import rollback

MESSAGES = {
    400: ("请求无效", "提交的内容无法处理，请返回重试。"),
    403: ("没有权限", "您没有权限访问此页面。"),
    404: ("页面不存在", "找不到您要访问的页面或记录。"),
    405: ("请求方式不允许", "此页面不支持该请求方式。"),
    413: ("文件过大", "上传的文件超过了允许的大小。"),
    500: ("系统错误", "服务器处理请求时出错，请稍后再试。错误已记录。"),
}


def _render(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code, ("出错了", "请求未能完成。"))
    if request.accept_mimetypes.best == "application/json":
        return jsonify(error=title, message=detail or message), code
    return render_template(
        "errors/error.html", code=code, title=title, message=detail or message
    ), code


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
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
