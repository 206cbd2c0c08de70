"""/metrics under gunicorn with several workers: PROMETHEUS_MULTIPROC_DIR adds up every worker."""
from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.browser.live import free_port
from tests.conftest import ROOT, _instance

TOKEN = "multiprocess-token"


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def _healthz_count(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "ruamsue_http_requests_total" and s.labels.get("endpoint") == "healthz":
                return s.value
    return 0.0


def test_two_gunicorn_workers_are_added_up(database: str, tmp_path: Path) -> None:
    metrics_dir = tmp_path / "prometheus"
    port = free_port()
    env = dict(os.environ, DATABASE_URL=database, RUAMSUE_INSTANCE=_instance, METRICS_TOKEN=TOKEN,
               PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), RATELIMIT_ENABLED="0")
    env.pop("REDIS_URL", None)
    log = tmp_path / "gunicorn.log"
    server: subprocess.Popen[Any] = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "-w", "2", "-b",
         f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if _get(port, "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.3)
        sent = 0
        pids: set[str] = set()
        # Until both workers have answered some (each new connection goes to whichever accepts first).
        while len(pids) < 2:
            assert sent < 2000, "only one worker ever answered"
            for _ in range(20):
                assert _get(port, "/healthz")[0] == 200
                sent += 1
            pids = {m.group(1) for f in metrics_dir.iterdir() if (m := re.match(r"counter_(\d+)\.db", f.name))}
        status, text = _get(port, "/metrics", {"Authorization": f"Bearer {TOKEN}"})
        assert status == 200
        assert _healthz_count(text) == sent  # every worker's requests, not one worker's
        assert "ruamsue_jobs_waiting" in text and "ruamsue_metrics_database_up 1.0" in text
    finally:
        server.terminate()
        server.wait(timeout=30)
