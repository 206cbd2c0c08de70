"""A live Ruamsue for the browser tests: gunicorn on a free port, the test database, the test queue."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 360, "height": 740}


def harness() -> Any:
    """The loaded tests/conftest.py module (its queue name and instance dir are per run)."""
    # pytest imports every conftest.py as "conftest" (tests/ is no package), so with tests/browser/conftest.py
    # loaded the name finds the wrong one: tests/conftest.py registers itself under a name of its own.
    module = sys.modules.get("ruamsue_test_harness")
    if module is not None:
        return module
    raise RuntimeError("tests/conftest.py is not loaded")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(database: str, log: Path, extra_env: dict[str, str] | None = None,
                queue: str | None = None) -> Iterator[str]:
    h = harness()
    port = free_port()
    env = dict(os.environ, DATABASE_URL=database, REDIS_URL=h.REDIS_URL, CELERY_QUEUE=queue or h.QUEUE,
               RUAMSUE_INSTANCE=h._instance, RATELIMIT_ENABLED="false", SECRET_KEY="browser-test-secret",
               **(extra_env or {}))
    out = open(log, "ab")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "2",
                             "--threads", "4", "--timeout", "60", "wsgi:app"],
                            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a loaded 2-core machine can take a minute to import the app twice
        while True:
            try:
                urllib.request.urlopen(url + "/login", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the live server did not start; see " + str(log)) from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        out.close()


class Journey:
    """One person's phone: a browser context at 360 px with numbered screenshots."""

    def __init__(self, browser: Any, base: str, name: str) -> None:
        self.context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                           has_touch=True, locale="th-TH")
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.page.on("dialog", lambda dialog: dialog.accept())
        self.base = base
        self.name = name
        self.step = 0
        SHOTS.mkdir(parents=True, exist_ok=True)

    def go(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def shot(self, label: str) -> None:
        self.step += 1
        for attempt in range(3):
            self.page.wait_for_load_state("load")
            try:
                self.assert_fits()
                self.page.screenshot(path=str(SHOTS / f"{self.name}-{self.step:02d}-{label}.png"), full_page=True)
                return
            except Exception as exc:  # noqa: BLE001
                # A page that reloads itself (a job just finished) can go away under the shot: take it again.
                if "context was destroyed" not in str(exc) or attempt == 2:
                    raise

    def assert_fits(self) -> None:
        width = self.page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide = self.page.evaluate(
                "() => Array.from(document.querySelectorAll('body *')).filter(e => "
                "e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5)"
                ".map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))")
            raise AssertionError(f"{self.page.url} scrolls sideways ({width}px): {wide}")

    def login(self, email: str, password: str) -> None:
        self.go("/login")
        self.page.fill("#email", email)
        self.page.fill("#password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(self.base + "/")

    def logout(self) -> None:
        self.page.click("#logout")
        self.page.wait_for_url("**/login")

    def close(self) -> None:
        self.context.close()
