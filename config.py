"""Settings, all from the environment.

With nothing set, Ruamsue runs on the embedded default: an SQLite file and a generated secret under
``instance/``, jobs run in-process. ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Celery.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

# The packages the app factory loads, in order (each has an ``app.py`` with ``init_app(app)``). The kernel
# (core/) and the rules (pricing/) are not listed: they are always there. A new domain adds itself here.
DOMAINS: tuple[str, ...] = ("network", "orders", "market", "households", "reports", "quotes", "notifications", "demo")

# The Celery edge: the app factory calls its ``celery_init_app(app)`` after the domains (``tasks/``: the
# Celery app, the beat schedule and every task), so that neither the kernel nor a domain imports Celery.
TASKS = "tasks"

INSTANCE_DIR = Path(os.environ.get("RUAMSUE_INSTANCE", Path(__file__).resolve().parent / "instance"))


def _secret_key() -> str:
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    # A generated key kept on disk so sessions survive a restart of the demo.
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{INSTANCE_DIR / 'ruamsue.sqlite3'}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secure_cookies() -> bool:
    """Session and remember cookies carry ``Secure`` (sent over HTTPS only) unless told otherwise.

    On by default for every real deployment (``DATABASE_URL`` set: PostgreSQL behind TLS). Off by
    default only for the embedded default (the SQLite demo served on http://localhost) and under
    ``FLASK_DEBUG``. ``SESSION_COOKIE_SECURE=0`` turns it off explicitly, e.g. for a plain-HTTP test
    server; production must never do that (``create_app`` logs a warning when it is off outside the
    embedded default).
    """
    local = not os.environ.get("DATABASE_URL") or _bool("FLASK_DEBUG", False)
    return _bool("SESSION_COOKIE_SECURE", not local)


def load() -> dict[str, object]:
    redis_url = os.environ.get("REDIS_URL", "")
    database_url = _database_url()
    secure_cookies = _secure_cookies()
    # The longest task (a national combine) must finish before Redis hands it to another worker.
    visibility_timeout = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "7200"))
    task_time_limit = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "3600"))
    transport_options: dict[str, object] = {"visibility_timeout": visibility_timeout}
    if os.environ.get("CELERY_UNACKED_RESTORE_INTERVAL"):
        # How often a worker looks for messages a dead worker left unacknowledged (kombu's default
        # sweep is every ~100 s); tests shorten it.
        transport_options["unacked_restore_interval"] = int(os.environ["CELERY_UNACKED_RESTORE_INTERVAL"])
        transport_options["unacked_restore_throttle"] = 1
    engine_options: dict[str, object] = {}
    if database_url.startswith("sqlite"):
        engine_options["connect_args"] = {"timeout": 30, "check_same_thread": False}
    return {
        "DOMAINS": DOMAINS,
        "TASKS": TASKS,
        "SECRET_KEY": _secret_key(),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        # A pooled connection idle longer than this is checked by a round trip before use (core.db.ping_after_idle);
        # one used more recently is not, which saves the round trip on every request under load.
        "DB_PING_AFTER_IDLE": float(os.environ.get("DB_PING_AFTER_IDLE", "1.0")),
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "REDIS_URL": redis_url,
        # Jobs go to Celery when a broker is configured, otherwise run in a thread of this process.
        "JOBS_IN_PROCESS": not redis_url,
        "DEFAULT_TIMEZONE": os.environ.get("RUAMSUE_TIMEZONE", "Asia/Bangkok"),
        "BABEL_DEFAULT_LOCALE": os.environ.get("RUAMSUE_LOCALE", "th"),
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("RUAMSUE_TIMEZONE", "Asia/Bangkok"),
        # An Idempotency-Key whose first request has not answered after this long was cut off.
        "IDEMPOTENCY_ABANDONED_AFTER": float(os.environ.get("IDEMPOTENCY_ABANDONED_AFTER", "60")),
        # A round this large is combined one job per supplier, so several workers share it.
        "COMBINE_PARTS_MIN_LINES": int(os.environ.get("RUAMSUE_COMBINE_PARTS_MIN_LINES", "200000")),
        "JOB_MAX_ATTEMPTS": int(os.environ.get("JOB_MAX_ATTEMPTS", "3")),
        # One-time links into an account (network.access): hours an invitation / a reset stays usable.
        "INVITATION_LINK_HOURS": float(os.environ.get("INVITATION_LINK_HOURS", str(14 * 24))),
        "RESET_LINK_HOURS": float(os.environ.get("RESET_LINK_HOURS", "24")),
        # Retries back off exponentially with jitter: base x 2^(n-1) seconds, at most the max.
        "JOB_RETRY_BASE": float(os.environ.get("JOB_RETRY_BASE", "2")),
        "JOB_RETRY_MAX": float(os.environ.get("JOB_RETRY_MAX", "60")),
        # How long a combine coordinator waits for per-supplier parts before it gives this attempt up.
        "COMBINE_PARTS_WAIT": float(os.environ.get("RUAMSUE_COMBINE_PARTS_WAIT", "600")),
        # How long a combine waits for a row or table lock (PostgreSQL) before the attempt fails and retries.
        "COMBINE_LOCK_TIMEOUT": float(os.environ.get("RUAMSUE_COMBINE_LOCK_TIMEOUT", "0")),
        # dispatch_stale re-sends a pending job created this many seconds ago that nobody ran.
        "JOB_STALE_AFTER": float(os.environ.get("JOB_STALE_AFTER", "60")),
        # Seconds between the beat's interval entries (close due rounds, re-send stale jobs); when set,
        # the hourly summary entry uses it too (tests and demos shorten it).
        "BEAT_INTERVAL": float(os.environ["RUAMSUE_BEAT_INTERVAL"]) if os.environ.get("RUAMSUE_BEAT_INTERVAL") else None,
        # What one request may carry (413 above, before anything reads it): a whole request (a slip photo
        # is at most 5 MiB, a price list 2 MB), a JSON body (an endpoint may allow more: core.api
        # allow_large_json), a form's fields in memory; and how deeply a JSON body may nest (400 above: the
        # contract's bodies nest three levels).
        "MAX_CONTENT_LENGTH": int(os.environ.get("RUAMSUE_MAX_REQUEST_BYTES", "8000000")),
        "MAX_JSON_BYTES": int(os.environ.get("RUAMSUE_MAX_JSON_BYTES", "1000000")),
        "MAX_FORM_MEMORY_SIZE": int(os.environ.get("RUAMSUE_MAX_FORM_BYTES", "500000")),
        "MAX_JSON_DEPTH": int(os.environ.get("RUAMSUE_MAX_JSON_DEPTH", "16")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", redis_url or "memory://"),
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        # Behind a TLS-terminating reverse proxy (nginx, a load balancer): how many proxies to trust for
        # X-Forwarded-For/-Proto/-Host. Without it every user shares the proxy's address (one login rate
        # limit for all) and no request looks secure (no HSTS). Never set it without such a proxy.
        "TRUSTED_PROXIES": int(os.environ.get("RUAMSUE_TRUSTED_PROXIES", "0")),
        # A limiter store (Redis) that is down must not turn a login into a 500: fall back to
        # per-process memory and, failing that, let the request through.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2} if redis_url else {},
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        "API_TITLE": "Ruamsue",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "CELERY": {
            "broker_url": redis_url or "memory://",
            "result_backend": redis_url or None,
            "task_ignore_result": True,
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "task_time_limit": task_time_limit,
            "worker_prefetch_multiplier": 1,
            "broker_transport_options": transport_options,
            "broker_connection_retry_on_startup": True,
            "task_default_queue": os.environ.get("CELERY_QUEUE", "ruamsue"),
            "timezone": "UTC",
        },
    }
