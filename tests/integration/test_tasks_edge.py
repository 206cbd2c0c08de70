"""tasks/, the Celery edge: ``celery -A tasks`` finds the app (worker and beat), every task beat sends
exists, and a real ``celery -A tasks beat`` sends every registered periodic work to Redis.

(The worker started with ``celery -A tasks worker`` runs the jobs of tests/integration/test_worker.py and
the other ``*_worker`` tests.)"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.conftest import REDIS_URL, ROOT

# What a fresh interpreter does for ``celery -A tasks ...``: Celery's own lookup of the app.
FIND_APP = """
import json
from celery.app.utils import find_app
from core.jobs import PERIODIC
app = find_app("tasks")
print(json.dumps({"tasks": sorted(t for t in app.tasks if t.startswith("ruamsue.")),
                  "beat": {k: v["task"] for k, v in app.conf.beat_schedule.items()},
                  "periodic": sorted(p.task for p in PERIODIC.values()),
                  "queue": app.conf.task_default_queue}))
"""


def _env(tmp_path: Path, queue: str, **extra: str) -> dict[str, str]:
    return dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'edge.sqlite3'}", REDIS_URL=REDIS_URL,
                CELERY_QUEUE=queue, RUAMSUE_INSTANCE=str(tmp_path), **extra)


def test_celery_finds_the_app_in_tasks_with_every_task(tmp_path: Path) -> None:
    queue = f"ruamsue-edge-{uuid.uuid4().hex[:8]}"
    out = subprocess.run([sys.executable, "-c", FIND_APP], cwd=ROOT, env=_env(tmp_path, queue),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["queue"] == queue  # the app built by the factory from the environment
    # Every task beat sends is registered, plus the one that runs any job of the outbox.
    assert set(found["beat"].values()) == set(found["periodic"])
    assert set(found["tasks"]) == set(found["periodic"]) | {"ruamsue.run_job"}
    assert {"ruamsue.close_due_rounds", "ruamsue.build_due_summaries", "ruamsue.announce_closed_requests",
            "ruamsue.send_due_notifications", "ruamsue.dispatch_stale_jobs"} <= set(found["tasks"])


def test_celery_beat_from_tasks_sends_every_periodic_work(tmp_path: Path) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.ping()
    queue = f"ruamsue-edge-{uuid.uuid4().hex[:8]}"
    find = subprocess.run([sys.executable, "-c", FIND_APP], cwd=ROOT, env=_env(tmp_path, queue),
                          capture_output=True, text=True, timeout=120)
    assert find.returncode == 0, find.stderr[-2000:]
    expected = set(json.loads(find.stdout.strip().splitlines()[-1])["periodic"])
    log = tmp_path / "beat.log"
    with open(log, "wb") as out:
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tasks", "beat", "-s", str(tmp_path / "schedule"), "-l", "INFO",
             "--pidfile", "", "--max-interval", "1"],
            cwd=ROOT, env=_env(tmp_path, queue, RUAMSUE_BEAT_INTERVAL="1"), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    sent: set[str] = set()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not expected <= sent:
            for raw in client.lrange(queue, 0, -1):
                sent.add(json.loads(raw)["headers"]["task"])
            time.sleep(0.5)
    finally:
        beat.terminate()
        try:
            beat.wait(timeout=20)
        except subprocess.TimeoutExpired:
            beat.kill()
        client.delete(queue)
    assert expected <= sent, (sorted(expected - sent), log.read_text(errors="replace")[-3000:])
