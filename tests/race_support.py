"""Races on purpose: many requests released at the same instant, each from its own thread and test client
(so its own session and connection). The threads only record; the test asserts in the main thread."""
from __future__ import annotations

import threading
from typing import Any

Call = tuple[str, dict[str, Any] | None, dict[str, str]]


def fire_posts(app: Any, calls: list[Call]) -> list[Any]:
    """POST every call at once; returns (status, json) per call, or ("exception", repr) when one raised."""
    results: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i: int) -> None:
        path, body, headers = calls[i]
        client = app.test_client()
        try:
            barrier.wait(timeout=30)
            res = client.post(path, json=body, headers=headers)
            results[i] = (res.status_code, res.get_json())
        except Exception as exc:  # noqa: BLE001 - reported by the test's assertion
            results[i] = ("exception", repr(exc))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results
