"""Security headers and cookies (issue 10, point 3): a CSP allowing only the site's own
scripts and styles, no framing, nosniff and a same-origin referrer on every response;
Secure cookies and HSTS with TRACKER_HTTPS; the remember cookie SameSite=Lax."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import PASSWORD, Browser, app_settings, close
from test_route_permissions import TABLE, world  # noqa: F401 (world is a fixture)

from tracker import create_app

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
STYLE_ATTR = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style\b", re.I)
NONCE = re.compile(r"'nonce-([^']+)'")
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


def directives(response) -> dict[str, str]:
    policy = response.headers.get("Content-Security-Policy", "")
    parts = (part.strip().split(None, 1) for part in policy.split(";") if part.strip())
    return {part[0]: (part[1] if len(part) > 1 else "") for part in parts}


def check_headers(response, where: str) -> list[str]:
    """What is missing or wrong in one response's security headers."""
    problems = []
    csp = directives(response)
    expected = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
    }
    if "/export/html" in where:  # the print page's <style> carries the request's nonce
        expected["style-src"] += f" 'nonce-{NONCE.search(csp.get('style-src', '')).group(1)}'"
    for name, value in expected.items():
        if csp.get(name) != value:
            problems.append(f"{where}: CSP {name} is {csp.get(name)!r}")
    if "unsafe" in response.headers.get("Content-Security-Policy", ""):
        problems.append(f"{where}: CSP allows something unsafe")
    for name, value in {
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }.items():
        if response.headers.get(name) != value:
            problems.append(f"{where}: {name} is {response.headers.get(name)!r}")
    if "Strict-Transport-Security" in response.headers:
        problems.append(f"{where}: HSTS without TRACKER_HTTPS")
    return problems


@pytest.mark.parametrize("role", ["anonymous", "admin", "clerk"])
def test_every_route_answers_with_the_security_headers(app, browser, world, role):  # noqa: F811
    """Pages, redirects, not-found and forbidden answers, exports and static files."""
    if role != "anonymous":
        browser.login(role)
    problems = []
    for endpoint, (method, path, _outcomes) in TABLE.items():
        if method != "GET":
            continue
        url = path.format(**world)
        response = browser.client.get(url)
        problems += check_headers(response, f"{endpoint} {url} ({response.status_code})")
        response.close()
    assert problems == []


def test_other_answers_have_them_too(app, browser, people):
    browser.login("clerk")
    answers = {
        "not found": browser.client.get("/no-such-page"),
        "wrong method": browser.client.get("/logout"),
        "no CSRF token": browser.client.post("/notifications/read-all"),
        "static script": browser.client.get("/static/js/editor.js"),
        "login redirect": Browser(browser.client.application.test_client()).client.get("/todo"),
        "list export": browser.client.get("/proposals/export.xlsx"),
    }
    for response in answers.values():
        response.close()
    assert [code.status_code for code in answers.values()] == [404, 405, 400, 200, 302, 200]
    problems = [p for where, response in answers.items() for p in check_headers(response, where)]
    assert problems == []


def test_a_server_error_has_them_too(tmp_path, monkeypatch):
    failing = create_app(app_settings(tmp_path))

    @failing.route("/boom")
    def boom():
        raise RuntimeError("broken")

    monkeypatch.setattr(failing.logger, "disabled", True)  # the logger is every app's
    try:
        response = failing.test_client().get("/boom")
        assert response.status_code == 500
        assert check_headers(response, "500") == []
    finally:
        close(failing)


def test_templates_have_no_inline_script_handler_or_style():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        source = path.read_text(encoding="utf-8")
        for name, pattern in [
            ("inline <script>", INLINE_SCRIPT),
            ("on…= handler", HANDLER),
            ('style="…"', STYLE_ATTR),
            ("<style>", STYLE_ELEMENT),
            ("javascript: URL", JS_URL),
        ]:
            for match in pattern.finditer(source):
                line = source.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(TEMPLATES)}:{line}: {name}")
    assert found == []


@pytest.mark.parametrize("role", ["admin", "supervisor"])
def test_rendered_pages_have_no_inline_script_handler_or_style(app, browser, world, role):  # noqa: F811
    """What a browser gets, Python-made markup included (the dashboard's colour keys)."""
    browser.login(role)
    found = []
    urls = [path.format(**world) for method, path, _ in TABLE.values() if method == "GET"]
    for url in [
        *urls,
        f"/proposals/{world['p1']}",
        "/dashboard",
        f"/letters/{world['draft']}/edit",
    ]:
        response = browser.client.get(url)
        if response.mimetype == "text/html" and "export" not in url:
            page = response.get_data(as_text=True)
            for name, pattern in [
                ("inline <script>", INLINE_SCRIPT),
                ("handler", HANDLER),
                ("style attribute", STYLE_ATTR),
                ("<style>", STYLE_ELEMENT),
            ]:
                if pattern.search(page):
                    found.append(f"{url}: {name}")
        response.close()
    assert found == []


def test_the_print_page_of_a_letter_styles_itself_with_a_nonce(app, browser, world):  # noqa: F811
    """The print-ready letter is one self-contained page: its <style> element carries the
    request's nonce, which the CSP names, and no element has a style attribute."""
    browser.login("clerk")
    nonces = []
    for url in (
        f"/letters/{world['public']}/export/html",
        f"/public/letters/{world['public']}/export/html",
    ):
        response = browser.client.get(url)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        [nonce] = re.findall(r'<style nonce="([^"]+)">', page)
        assert f"'nonce-{nonce}'" in directives(response)["style-src"].split()
        assert directives(response)["script-src"] == "'self'"
        assert not STYLE_ATTR.search(page)
        assert "margin-right" in page  # the signature and date are still set in from the right
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


# -- cookies and HTTPS ------------------------------------------------------------------


def set_cookies(response) -> dict[str, str]:
    cookies = {}
    for header in response.headers.getlist("Set-Cookie"):
        name = header.split("=", 1)[0]
        cookies[name] = header
    return cookies


def login_with_remember(app, base_url: str = "http://localhost"):
    browser = Browser(app.test_client())
    browser.get("/login", base_url=base_url)
    return browser.post(
        "/login",
        {"username": "clerk", "password": PASSWORD, "remember": "y"},
        base_url=base_url,
        # over HTTPS Flask-WTF wants a same-site Referer, which Referrer-Policy: same-origin
        # lets browsers send
        headers={"Referer": f"{base_url}/login"},
    )


def test_cookies_without_https(app, people):
    response = login_with_remember(app)
    assert response.status_code == 302
    cookies = set_cookies(response)
    assert "HttpOnly" in cookies["session"] and "SameSite=Lax" in cookies["session"]
    assert "HttpOnly" in cookies["remember_token"]
    assert "SameSite=Lax" in cookies["remember_token"]
    assert "Secure" not in cookies["session"] and "Secure" not in cookies["remember_token"]
    assert "Strict-Transport-Security" not in response.headers


@pytest.fixture
def https_app(app, tmp_path):
    """The tracker with TRACKER_HTTPS=true, on the test database."""
    secure = create_app({**app_settings(tmp_path), "HTTPS": True})
    yield secure
    close(secure)


def test_https_makes_cookies_secure_and_adds_hsts(https_app, people):
    response = login_with_remember(https_app, "https://localhost")
    assert response.status_code == 302
    cookies = set_cookies(response)
    assert "Secure" in cookies["session"] and "Secure" in cookies["remember_token"]
    assert "SameSite=Lax" in cookies["remember_token"]
    assert response.headers["Strict-Transport-Security"] == "max-age=31556926"
    page = https_app.test_client().get("/login", base_url="https://localhost")
    assert page.headers["Strict-Transport-Security"] == "max-age=31556926"


def test_https_behind_a_trusted_proxy(app, tmp_path, people):
    """nginx ends TLS and says so in X-Forwarded-Proto; the app adds HSTS."""
    proxied = create_app({**app_settings(tmp_path), "HTTPS": True, "TRUSTED_PROXIES": 1})
    try:
        response = proxied.test_client().get(
            "/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.1"}
        )
        assert response.headers["Strict-Transport-Security"] == "max-age=31556926"
    finally:
        close(proxied)


def test_the_env_variable_turns_https_on(monkeypatch, tmp_path):
    monkeypatch.setenv("TRACKER_HTTPS", "true")
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("TRACKER_SECRET_KEY", "env")
    monkeypatch.setenv("TRACKER_INDEX_DIR", str(tmp_path / "index"))
    configured = create_app()
    try:
        assert configured.config["SESSION_COOKIE_SECURE"] is True
        assert configured.config["REMEMBER_COOKIE_SECURE"] is True
    finally:
        close(configured)


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/letters/{id}/export/html", "text/html; charset=utf-8"),
        ("/public/letters/{id}/export/html", "text/html; charset=utf-8"),
        ("/letters/{id}/export/docx", None),
        ("/proposals/export.csv", "text/csv; charset=utf-8"),
        ("/proposals/export.xlsx", None),
    ],
)
def test_a_download_names_its_charset_once(browser, world, path, content_type):  # noqa: F811
    browser.login("supervisor")
    response = browser.client.get(path.format(id=world["public"]))
    assert response.status_code == 200, path
    assert response.headers["Content-Type"].count("charset") <= 1
    if content_type:
        assert response.headers["Content-Type"] == content_type
