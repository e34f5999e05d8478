"""Configuration defaults. Every key can be overridden by a TRACKER_* environment variable
(for example TRACKER_DATABASE_URL) or, in tests, by the mapping passed to create_app."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def defaults(instance_path: str) -> dict:
    var = Path(os.environ.get("TRACKER_VAR_DIR", ROOT / "var"))
    return {
        "SECRET_KEY": None,  # generated into the instance folder when not configured
        "DATABASE_URL": f"sqlite:///{var / 'tracker.db'}",
        "INDEX_DIR": str(var / "index"),
        # The search engine: "whoosh" (files in INDEX_DIR) or "postgres" (a table of the
        # PostgreSQL database); empty: postgres when the database is PostgreSQL.
        "SEARCH_ENGINE": "",
        # PostgreSQL: settings of the app's connections (libpq's "options"), unless the URL
        # has options of its own. No parallel workers: a page's query in two processes
        # (several at once under load) cost 我的待办 under 8 connections 40% of its rate
        # (the README's multi-server section); empty to leave the server's settings.
        "POSTGRES_OPTIONS": "-c max_parallel_workers_per_gather=0",
        "CORPUS_DIR": str(ROOT / "corpus"),
        "UPLOAD_DIR": str(var / "uploads"),
        # Deadline policy (DOMAIN.md): periods as "3 months", "5 working days", "30 days".
        # An admin can change them on the settings page; these are the defaults.
        "REPLY_PERIOD": "3 months",
        "REPLY_MAX_PERIOD": "6 months",
        "CO_OPINION_PERIOD": "1 month",
        "REASSIGNMENT_WINDOW": "5 working days",
        "RE_ANSWER_PERIOD": "1 month",
        "CO_SIGN_PERIOD": "5 working days",
        "CO_SIGN_REQUIRED": True,  # co-units co-sign (会签) the lead unit's reply
        "DUE_SOON_DAYS": 7,
        "PER_PAGE": 25,
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_I18N_ENABLED": False,  # WTForms' built-in Chinese messages (see formutil)
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        # Login sessions (services/sessions.py): one not used for SESSION_IDLE_HOURS ends;
        # one signed in with 记住我 lasts REMEMBER_DAYS from login, unless ended earlier.
        "SESSION_IDLE_HOURS": 12,
        "REMEMBER_DAYS": 30,
        # Login throttling (services/logins.py): the LOGIN_MAX_FAILURES-th failed login in a
        # row for one account name locks it for a minute, each further failure doubles the
        # lock up to LOGIN_LOCK_MAX_MINUTES; LOGIN_ADDRESS_MAX_FAILURES does the same for
        # one client address (whatever names it tries).
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_ADDRESS_MAX_FAILURES": 30,
        "LOGIN_LOCK_MAX_MINUTES": 60,
        # Reverse proxies in front of the app whose X-Forwarded-For / X-Forwarded-Proto are
        # trusted (Werkzeug's ProxyFix); 0: the client address is the connection's.
        "TRUSTED_PROXIES": 0,
        # Served over HTTPS (TLS at the app or at the proxy): Secure cookies and HSTS.
        "HTTPS": False,
        "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
        "PROPOSAL_IMPORT_MAX_MB": 10,  # one 交办清单 uploaded for 批量导入
        # Importing reply letters (`tracker import-letters` and the 导入答复函 page).
        "IMPORT_MAX_FILES": 500,  # files in one upload
        "IMPORT_MAX_UPLOAD_MB": 200,  # one upload, all files together
        "IMPORT_MAX_FILE_MB": 50,  # one letter file (also inside an archive, or a .docx unpacked)
        "IMPORT_MAX_ARCHIVE_FILES": 20000,  # entries in one .zip
        "IMPORT_MAX_ARCHIVE_MB": 1024,  # a .zip's total unpacked size
        "SOFFICE": "soffice",  # LibreOffice, for .doc/.wps; a path, or empty to turn it off
        "SOFFICE_TIMEOUT": 120,  # seconds for one conversion
        # Background jobs (imports from the page): run by `tracker run-jobs`, started for
        # each new job when JOB_SPAWN is on; a job whose runner stops beating for
        # JOB_STALE_SECONDS is taken over by the next runner.
        "JOB_SPAWN": True,
        "JOB_HEARTBEAT_SECONDS": 10,
        "JOB_STALE_SECONDS": 60,
        "JOB_MAX_ATTEMPTS": 3,
        "JOB_LOG": str(var / "jobs.log"),
        # Reminders (`tracker remind`): links in e-mail and SMS point at BASE_URL.
        "BASE_URL": "http://127.0.0.1:5000",
        # E-mail through SMTP: off while SMTP_HOST is empty.
        "SMTP_HOST": "",
        "SMTP_PORT": 25,
        "SMTP_USER": "",
        "SMTP_PASSWORD": "",
        "SMTP_STARTTLS": False,
        "SMTP_SSL": False,
        "SMTP_TIMEOUT": 10,
        "MAIL_FROM": "tracker@localhost",
        # SMS through the gateway's webhook (JSON POST): off while SMS_WEBHOOK_URL is empty.
        "SMS_WEBHOOK_URL": "",
        "SMS_WEBHOOK_TOKEN": "",  # sent as "Authorization: Bearer <token>" when set
        "SMS_WEBHOOK_TIMEOUT": 10,
        # The JSON API (/api/v1): requests one token may make in a window of
        # API_RATE_WINDOW_SECONDS (counted in the database: every worker shares the count).
        "API_RATE_LIMIT": 120,
        "API_RATE_WINDOW_SECONDS": 60,
    }


POLICY_KEYS = {
    "reply": "REPLY_PERIOD",
    "reply_max": "REPLY_MAX_PERIOD",
    "co_opinion": "CO_OPINION_PERIOD",
    "reassignment_window": "REASSIGNMENT_WINDOW",
    "re_answer": "RE_ANSWER_PERIOD",
    "co_sign": "CO_SIGN_PERIOD",
    "co_sign_required": "CO_SIGN_REQUIRED",
}
