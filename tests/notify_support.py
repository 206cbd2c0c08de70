"""Stand-ins for the outside world of notifications, on 127.0.0.1 only: a LINE Messaging API server that
checks what the real SDK sends, and a real SMTP server (aiosmtpd) whose messages are read back."""
from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.stand_in import serving

LINE_TOKEN = "test-channel-token-x9"
PUSH_PATH = "/v2/bot/message/push"
REPLY_PATH = "/v2/bot/message/reply"


@dataclass
class LineStandIn:
    """Records every request; answers each recipient from ``answers`` (a queue of (status, body)),
    else 200. A retry key already accepted gets 409, as LINE answers."""

    url: str = ""
    token: str = LINE_TOKEN
    requests: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    answers: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    accepted_keys: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pushes(self) -> list[dict[str, Any]]:
        """The well-formed pushes received (every request, once checked)."""
        with self.lock:
            return [r for r in self.requests if r["ok"] and r["path"] == PUSH_PATH]

    def replies(self) -> list[dict[str, Any]]:
        """The well-formed replies (the bot answering a webhook event) received."""
        with self.lock:
            return [r for r in self.requests if r["ok"] and r["path"] == REPLY_PATH]

    def answer(self, to: str, *answers: tuple[int, dict[str, Any]]) -> None:
        with self.lock:
            self.answers.setdefault(to, []).extend(answers)


def _handler(stand_in: LineStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            problems = []
            if self.path not in (PUSH_PATH, REPLY_PATH):
                problems.append(f"path {self.path}")
            if self.headers.get("Authorization") != f"Bearer {stand_in.token}":
                problems.append(f"authorization {self.headers.get('Authorization')!r}")
            if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                problems.append(f"content type {self.headers.get('Content-Type')!r}")
            try:
                body = json.loads(raw.decode("utf-8"))
            except ValueError:
                body = None
                problems.append("body is not JSON")
            if body is not None:
                messages = body.get("messages")
                addressee = body.get("to") if self.path == PUSH_PATH else body.get("replyToken")
                if not isinstance(addressee, str) or not addressee or not isinstance(messages, list) or not messages or \
                        any(m.get("type") != "text" or not m.get("text") for m in messages):
                    problems.append(f"body shape {body!r}")
            key = self.headers.get("X-Line-Retry-Key")
            record = {"path": self.path, "headers": dict(self.headers), "body": body, "retry_key": key,
                      "ok": not problems}
            with stand_in.lock:
                stand_in.requests.append(record)
                stand_in.problems.extend(problems)
                queue = stand_in.answers.get((body or {}).get("to", ""), [])
                answer = queue.pop(0) if queue else (200, {"sentMessages": [{"id": "1", "quoteToken": "q"}]})
                if problems:
                    answer = (400, {"message": "; ".join(problems)})
                elif key and key in stand_in.accepted_keys:
                    answer = (409, {"message": "The retry key is already accepted"})
                elif answer[0] == 200 and key:
                    stand_in.accepted_keys.add(key)
            self._reply(*answer)

    return Handler


@contextmanager
def line_stand_in() -> Iterator[LineStandIn]:
    stand_in = LineStandIn()
    with serving(_handler(stand_in)) as url:
        stand_in.url = url
        yield stand_in


@dataclass
class Mailbox:
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received(self) -> list[EmailMessage]:
        with self.lock:
            return list(self.messages)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1; messages parsed back with the stdlib."""
    from aiosmtpd.controller import Controller

    box = Mailbox(port=_free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            message = message_from_bytes(envelope.original_content or envelope.content, policy=default_policy)
            with box.lock:
                box.messages.append(message)  # type: ignore[arg-type]
                box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


# --- a worker of its own, configured for the stand-ins ---------------------------------------------

@dataclass
class NotifyWorld:
    app: Any
    line: LineStandIn
    mail: Mailbox
    queue: str


@contextmanager
def notify_worker(database: str, base_app: Any, log: Any) -> Iterator[NotifyWorld]:
    """A real Celery worker (its own queue) and an app that sends to it, both pointed at a LINE
    stand-in and an SMTP server on 127.0.0.1."""
    import os
    import subprocess
    import sys
    import uuid

    from tests.conftest import REDIS_URL, ROOT, _instance, _make_app

    queue = f"ruamsue-notify-{uuid.uuid4().hex[:8]}"
    with line_stand_in() as line, smtp_server() as box:
        settings: dict[str, Any] = {"LINE_CHANNEL_ACCESS_TOKEN": LINE_TOKEN, "LINE_API_ENDPOINT": line.url,
                                    "MAIL_SERVER": box.host,
                    "MAIL_PORT": str(box.port), "PUBLIC_BASE_URL": "https://ruamsue.example"}
        env = dict(os.environ, DATABASE_URL=database, REDIS_URL=REDIS_URL, RUAMSUE_INSTANCE=_instance, **settings)
        env["CELERY_QUEUE"] = queue
        out = open(log, "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tasks", "worker", "-Q", queue, "-c", "1", "--pool", "prefork",
             "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "INFO",
             "-n", f"notify-{uuid.uuid4().hex[:6]}@%h"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        app = _make_app(database, JOBS_MODE="celery", CELERY=dict(base_app.config["CELERY"], task_default_queue=queue),
                        **dict(settings, MAIL_PORT=box.port))
        try:
            yield NotifyWorld(app, line, box, queue)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
            out.close()
            from core.db import db

            with app.app_context():
                db.engine.dispose()


def wipe(app: Any) -> None:
    """Empty every table (a worker test's committed data)."""
    from core.db import db

    with app.app_context():
        db.session.remove()
        tables = ", ".join(f'"{t.name}"' for t in reversed(db.metadata.sorted_tables))
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
