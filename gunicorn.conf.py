"""Gunicorn settings Ruamsue needs (gunicorn reads ./gunicorn.conf.py when started from the checkout;
elsewhere pass ``-c gunicorn.conf.py``). Workers, threads and the address stay on the command line.

With ``PROMETHEUS_MULTIPROC_DIR`` set, every worker writes its metrics into that directory and
``/metrics`` adds them up; a worker that exits is marked dead so its live gauges disappear.
"""
from __future__ import annotations

import os
from typing import Any


def on_starting(server: Any) -> None:
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        os.makedirs(path, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
