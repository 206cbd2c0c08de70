"""Helpers of the fault tests: their own Redis database and queue, worker and beat processes in their
own process groups (so a test can kill -9 a whole worker), and seeded rounds with leaders' tokens.

The fault tests use Redis database 7, not the main suite's 0: a worker started here with a 10 s
visibility timeout restores *every* unacknowledged message of its Redis database, and must not
re-deliver another test run's long jobs."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from tests.conftest import REDIS_URL, ROOT, _instance
from tests.support import expected_allocations, seed_round  # noqa: F401  (re-exported for the fault tests)

FAULT_REDIS_URL = REDIS_URL.rsplit("/", 1)[0] + "/7"
REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
               "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]


def new_queue() -> str:
    return f"ruamsue-faults-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def fault_app(database: str, queue: str, env: dict[str, str] | None = None, **overrides: Any):  # type: ignore[no-untyped-def]
    """An app as gunicorn would build it, on the fault tests' Redis database and queue."""
    values = {"DATABASE_URL": database, "REDIS_URL": FAULT_REDIS_URL, "CELERY_QUEUE": queue, **(env or {})}
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        from core import create_app

        config: dict[str, Any] = {"TESTING": False, "RATELIMIT_ENABLED": False, "JOBS_MODE": "celery",
                                  "SERVER_NAME": None}
        config.update(overrides)
        return create_app(config)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _env(database: str, queue: str, extra: dict[str, str] | None) -> dict[str, str]:
    return dict(os.environ, DATABASE_URL=database, REDIS_URL=FAULT_REDIS_URL, CELERY_QUEUE=queue,
                RUAMSUE_INSTANCE=_instance, **(extra or {}))


def start_worker(database: str, queue: str, log: Path, *, concurrency: int = 1,
                 extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    out = open(log, "ab")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks", "worker", "-Q", queue, "-c", str(concurrency),
         "--pool", "prefork", "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "INFO",
         "-n", f"faults-{uuid.uuid4().hex[:6]}@%h"],
        cwd=ROOT, env=_env(database, queue, extra_env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def start_beat(database: str, queue: str, log: Path, schedule: Path, *,
               extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    out = open(log, "ab")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks", "beat", "-s", str(schedule), "-l", "INFO",
         "--pidfile", ""],
        cwd=ROOT, env=_env(database, queue, extra_env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def wait_for_log(log: Path, text: str, timeout: float = 30.0, count: int = 1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and log.read_text(errors="replace").count(text) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not in {log} within {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
    """Stop a worker or beat and everything in its process group."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    try:  # children left behind by a SIGTERM of the master
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def redis_up() -> bool:
    return subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"], capture_output=True,
                          text=True).stdout.strip() == "PONG"


def ensure_redis() -> None:
    if not redis_up():
        os.makedirs("/var/lib/redis", exist_ok=True)
        os.makedirs("/var/log/redis", exist_ok=True)
        subprocess.run(REDIS_START, check=False)
    deadline = time.monotonic() + 30
    while not redis_up():
        if time.monotonic() > deadline:
            raise AssertionError("Redis did not come back")
        time.sleep(0.2)


def pg_cluster(port: int = 5432) -> tuple[str, str]:
    """(version, name) of the PostgreSQL cluster serving ``port``, read from ``pg_lsclusters`` rather than
    assumed, so the fault tests run on whatever PostgreSQL the machine has (override: PG_CLUSTER=16/main)."""
    configured = os.environ.get("PG_CLUSTER")
    if configured:
        version, _, name = configured.partition("/")
        return version, name or "main"
    out = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True).stdout
    clusters = [line.split() for line in out.splitlines() if line.strip()]
    for fields in clusters:
        if len(fields) >= 3 and fields[2] == str(port):
            return fields[0], fields[1]
    raise AssertionError(f"no PostgreSQL cluster on port {port} in pg_lsclusters:\n{out}")


def pg_ctl(action: str, *, check: bool = False) -> None:
    version, name = pg_cluster()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action], check=check,
                   capture_output=True)


def pg_up() -> bool:
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]).returncode == 0


def ensure_postgres() -> None:
    if not pg_up():
        pg_ctl("start")
    deadline = time.monotonic() + 60
    while not pg_up():
        if time.monotonic() > deadline:
            raise AssertionError("PostgreSQL did not come back")
        time.sleep(0.2)
