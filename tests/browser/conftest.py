"""The browser journeys' shared parts: one Chromium for the run and a live server (gunicorn on the run's
database, with the run's real Celery worker). A module needing another server (LINE's stand-ins, say)
defines its own ``server``, which takes precedence over this one."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.live import CHROMIUM_ARGS, live_server


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def server(database: str, celery_worker: Any, tmp_path: Any) -> Iterator[str]:
    with live_server(database, tmp_path / "gunicorn.log") as url:
        yield url
