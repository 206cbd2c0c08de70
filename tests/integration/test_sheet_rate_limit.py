"""The households' sheet link is rate-limited per address like the supplier's quote link: a guesser of tokens
gets 429s, not an oracle."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import _make_app


@pytest.fixture
def limited_app(database) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """Rate limiting on (3 a minute for the sheet links), in memory; the limiter's state is restored afterwards."""
    from core.web import limiter

    saved = dict(vars(limiter))
    try:
        yield _make_app(database, RATELIMIT_ENABLED=True, SHEET_RATE_LIMIT="3 per minute",
                        RATELIMIT_STORAGE_URI="memory://", RATELIMIT_STORAGE_OPTIONS={})
    finally:
        limiter.reset()
        vars(limiter).clear()
        vars(limiter).update(saved)


def test_sheet_token_guessing_is_limited_per_address(limited_app):  # type: ignore[no-untyped-def]
    client = limited_app.test_client()

    def guess(path: str, address: str) -> int:
        return int(client.get(path, environ_base={"REMOTE_ADDR": address}).status_code)

    assert [guess(f"/api/v1/sheets/{'g' * 42}{i}", "203.0.113.5") for i in range(4)] == [404, 404, 404, 429]
    assert guess(f"/api/v1/sheets/{'g' * 43}", "203.0.113.6") == 404  # another address is not held back
    assert [guess(f"/api/v1/sheets/{'k' * 42}{i}/households/1", "203.0.113.8") for i in range(4)] == [404, 404, 404, 429]
    assert [guess(f"/h/{'h' * 42}{i}", "203.0.113.7") for i in range(4)] == [404, 404, 404, 429]
