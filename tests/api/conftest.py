"""Fixtures of the API tests."""
from __future__ import annotations

import pytest

from tests.api.authz_world import build_world


@pytest.fixture
def world_factory(db_session, make_network, make_group, make_user, token_for, make_round, make_offer,
                  place_order):  # type: ignore[no-untyped-def]
    return lambda: build_world(db_session, make_network, make_group, make_user, token_for, make_round,
                               make_offer, place_order)
