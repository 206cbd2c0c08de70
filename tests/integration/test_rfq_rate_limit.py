"""The supplier's private-link endpoints are rate-limited per address, like the login: a guesser of
tokens gets 429s, not an oracle."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import _make_app


@pytest.fixture
def limited_app(database) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """Rate limiting on (3 a minute for the links), in memory; the limiter's state is restored afterwards."""
    from core.web import limiter

    saved = dict(vars(limiter))
    try:
        yield _make_app(database, RATELIMIT_ENABLED=True, QUOTE_RATE_LIMIT="3 per minute",
                        RATELIMIT_STORAGE_URI="memory://", RATELIMIT_STORAGE_OPTIONS={})
    finally:
        limiter.reset()
        vars(limiter).clear()
        vars(limiter).update(saved)


def test_token_guessing_is_limited_per_address(limited_app):  # type: ignore[no-untyped-def]
    client = limited_app.test_client()

    def guess(i: int, address: str) -> int:
        return int(client.get(f"/api/v1/quotes/{'g' * 42}{i}", environ_base={"REMOTE_ADDR": address}).status_code)

    assert [guess(i, "203.0.113.5") for i in range(4)] == [404, 404, 404, 429]
    assert guess(9, "203.0.113.6") == 404  # another address is not held back
    page = [client.get(f"/q/{'h' * 42}{i}", environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code
            for i in range(4)]
    assert page == [404, 404, 404, 429]
    body = client.get(f"/api/v1/quotes/{'g' * 43}", environ_base={"REMOTE_ADDR": "203.0.113.5"}).get_json()
    assert body["error"]["code"] == "rate_limited"
