"""The installable, offline-capable shell: the web app manifest, the service worker at the root scope,
a fresh CSRF token for phones sending what they kept offline, and the pages a domain keeps offline.

A domain names its pages that phones may keep (``keep_offline(app, "orders_views.rounds")``); those
answers carry ``X-Offline-Page: 1`` and the service worker keeps a copy of them, network first.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, jsonify, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

bp = Blueprint("pwa", __name__)

STATIC = Path(__file__).resolve().parent / "static"
# The app shell the service worker stores on install (paths under core/static/).
SHELL_FILES = ("app.css", "app.js", "offline.js", "offline_page.js", "offline_link.js", "offline.html",
               "icons/icon-192.png", "icons/icon-512.png")
THEME = "#2f6b3f"
_PAGES = "ruamsue_offline_pages"


def keep_offline(app: Flask, *endpoints: str) -> None:
    """Pages (endpoint names) a phone keeps a copy of, to open without a connection."""
    app.extensions.setdefault(_PAGES, set()).update(endpoints)


def offline_pages(app: Flask) -> frozenset[str]:
    return frozenset(app.extensions.get(_PAGES, ()))


def _shell_version() -> str:
    digest = hashlib.sha256()
    for name in (*SHELL_FILES, "sw.js"):
        digest.update(name.encode() + b"\0" + (STATIC / name).read_bytes())
    return digest.hexdigest()[:12]


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    body = {
        "name": "รวมซื้อ เครือข่ายสหกรณ์",
        "short_name": "รวมซื้อ",
        "description": "สั่งซื้อรวมของกลุ่ม ใช้ได้แม้สัญญาณอ่อน",
        "lang": "th",
        "dir": "ltr",
        "start_url": "/?source=homescreen",
        "scope": "/",
        "id": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#f6f8f5",
        "theme_color": THEME,
        "icons": [
            {"src": url_for("static", filename="icons/icon-192.png"), "sizes": "192x192", "type": "image/png",
             "purpose": "any maskable"},
            {"src": url_for("static", filename="icons/icon-512.png"), "sizes": "512x512", "type": "image/png",
             "purpose": "any maskable"},
        ],
    }
    response = current_app.response_class(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/sw.js")
def service_worker() -> Response:
    """Served from the root so its scope is the whole site. Never cached by HTTP: a new version
    (any shell file changed) must reach the phones on their next visit."""
    cached = current_app.extensions.get("ruamsue_sw")
    if cached is None or current_app.debug:
        shell = [url_for("static", filename=name) for name in SHELL_FILES]
        cached = ((STATIC / "sw.js").read_text(encoding="utf-8")
                  .replace("__VERSION__", _shell_version())
                  .replace("__SHELL__", json.dumps(shell))
                  .replace("__OFFLINE_PAGE__", json.dumps(url_for("static", filename="offline.html")))
                  .replace("__OUTBOX_JS__", json.dumps(url_for("static", filename="offline.js"))))
        current_app.extensions["ruamsue_sw"] = cached
    response = current_app.response_class(cached, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/offline/token")
def token() -> Response:
    """A fresh CSRF token for sending what the phone kept: the one in a page saved hours ago may
    have expired. Same-origin only (no CORS), so another site cannot read it."""
    if not current_user.is_authenticated:
        response = jsonify({"error": {"code": "not_authenticated", "message": "Log in again.", "fields": {}}})
        response.status_code = 401
    else:
        response = jsonify({"csrf_token": generate_csrf(), "user_id": current_user.id})
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.after_request
    def _mark_offline_pages(response: Response) -> Response:
        if (request.method == "GET" and response.status_code == 200 and response.mimetype == "text/html"
                and request.endpoint in offline_pages(app)):
            response.headers["X-Offline-Page"] = "1"
            response.headers.setdefault("Cache-Control", "private, no-cache")
        return response


def init_compression(app: Flask) -> None:
    """Text answers compressed (brotli, else gzip): a page of the order form is a few KB on 3G."""
    from flask_compress import Compress

    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "deflate"])  # static files are streamed
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    app.config.setdefault("COMPRESS_MIMETYPES", [
        "text/html", "text/css", "text/plain", "text/csv", "text/javascript", "application/javascript",
        "application/json", "application/manifest+json", "image/svg+xml"])
    Compress(app)
