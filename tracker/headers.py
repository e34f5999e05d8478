"""Security headers and cookie flags on every response, through Flask-Talisman.

The Content-Security-Policy lets pages load scripts, styles, images, fonts and fetches from
the site itself only, and runs no inline script, event handler or style attribute (the
templates have none: scripts are files in static/js, styles in static/css). The one page
that styles itself — the print-ready letter, a self-contained document — marks its <style>
element with the request's nonce (see ``letter_page``). No site may frame a page
(frame-ancestors 'none', and X-Frame-Options DENY for older browsers), since 签发, 公开 and
签收 are one-click forms. With HTTPS on, cookies are Secure and HSTS tells browsers to come
back over HTTPS only."""

from __future__ import annotations

from flask import Flask

from tracker.extensions import talisman

SELF, NONE = "'self'", "'none'"
POLICY = {
    "default-src": SELF,
    "script-src": SELF,
    "style-src": SELF,
    "img-src": SELF,
    "font-src": SELF,
    "connect-src": SELF,
    "object-src": NONE,
    "base-uri": NONE,
    "form-action": SELF,
    "frame-ancestors": NONE,
}
HSTS_SECONDS = 31556926  # a year


def init_app(app: Flask) -> None:
    https = bool(app.config["HTTPS"])
    app.config.update(
        SESSION_COOKIE_SECURE=https,
        REMEMBER_COOKIE_SECURE=https,
        REMEMBER_COOKIE_SAMESITE="Lax",
    )
    talisman.init_app(
        app,
        # nginx (or whatever ends TLS) redirects http to https; the app answering a
        # redirect itself would loop behind a proxy that does not say X-Forwarded-Proto
        force_https=False,
        frame_options="DENY",
        content_security_policy=POLICY,
        referrer_policy="same-origin",
        strict_transport_security=https,
        strict_transport_security_max_age=HSTS_SECONDS,
        # the tracker's host name says nothing about its sibling sites: leave them alone
        strict_transport_security_include_subdomains=False,
        session_cookie_secure=https,
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        x_content_type_options=True,
    )


def letter_page(view):
    """For a view whose page carries a <style> element marked with the request's nonce
    (``csp_nonce()``): the policy names that nonce in style-src."""
    return talisman(content_security_policy_nonce_in=["style-src"])(view)
