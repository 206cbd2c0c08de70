"""Connections the database dropped (a restart, an operator's pg_terminate_backend): a connection that sat
idle in the pool is checked at checkout and replaced, so the request runs; one used a moment ago is handed
out unchecked, its request answers a clean 503, and the next requests run on new connections.

``tests/faults/test_faults_9_postgres_restart.py`` restarts the whole server; this drops only this test's
own connections, so it runs beside other tests."""
from __future__ import annotations

import time
from typing import Any

import psycopg

from tests.conftest import _make_app
from tests.support import seed_round


def _drop_connections(database: str) -> int:
    """Terminate every backend of this database but our own; how many there were."""
    with psycopg.connect(database, autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall()
    time.sleep(0.2)  # the backends exit
    return len(rows)


def _put(client: Any, data: dict[str, Any], group_id: int, n: int) -> Any:
    body = {"lines": [{"offer_id": o, "quantity": n, "tolerance": 0} for o in data["offer_ids"]]}
    return client.put(f"/api/v1/rounds/{data['round_id']}/orders/{group_id}", json=body,
                      headers=data["leaders"][group_id])


def test_connections_dropped_while_idle_are_replaced_at_checkout(database, committed):
    data = seed_round(committed, groups=1, offers=2, with_orders=False, leaders=True)
    committed.commit()
    app = _make_app(database, DB_PING_AFTER_IDLE=0.3)
    client = app.test_client()
    (group_id,) = data["group_ids"]
    assert _put(client, data, group_id, 1).status_code == 200
    assert _drop_connections(database) >= 1
    time.sleep(0.5)  # longer than DB_PING_AFTER_IDLE: checked before use, replaced
    response = _put(client, data, group_id, 2)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["lines"][0]["quantity"] == 2
    with app.app_context():
        from core.db import db

        db.engine.dispose()


def test_a_connection_dropped_a_moment_after_use_fails_one_request_cleanly(database, committed):
    data = seed_round(committed, groups=1, offers=2, with_orders=False, leaders=True)
    committed.commit()
    app = _make_app(database, DB_PING_AFTER_IDLE=600)  # never idle long enough to be checked
    client = app.test_client()
    (group_id,) = data["group_ids"]
    assert _put(client, data, group_id, 1).status_code == 200
    assert _drop_connections(database) >= 1
    failed = _put(client, data, group_id, 2)
    assert failed.status_code == 503, failed.get_data(as_text=True)
    assert failed.get_json()["error"]["code"] == "unavailable"
    # The pool dropped every connection opened before the failure: the next request reconnects.
    again = _put(client, data, group_id, 3)
    assert again.status_code == 200, again.get_data(as_text=True)
    assert client.get(f"/api/v1/rounds/{data['round_id']}/orders/{group_id}",
                      headers=data["leaders"][group_id]).get_json()["lines"][0]["quantity"] == 3
    with app.app_context():
        from core.db import db

        db.engine.dispose()
