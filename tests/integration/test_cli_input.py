"""The command line reads through the same field rules as the API and the pages: `flask network create`
with hostile values ends with one clear line and exit status 1, never a traceback, and writes nothing."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

GOOD = {"name": "เครือข่ายทดสอบ", "email": "admin-{tag}@example.org", "password": "long-password-9",
        "admin_name": "ผู้ดูแล", "timezone": "Asia/Bangkok"}
HOSTILE = [("name", "a\x00b"), ("name", "x" * 10_000), ("name", "   "), ("admin_name", "a\x00b"),
           ("admin_name", "y" * 300), ("email", "not-an-email"), ("email", "a\x00b@example.org"),
           ("email", "z" * 300 + "@example.org"), ("password", "password"), ("password", "short"),
           ("timezone", "Mars/Olympus"), ("timezone", "../../etc/passwd"), ("timezone", "Asia/\x00Bangkok")]


@pytest.mark.parametrize(("field", "value"), HOSTILE, ids=lambda v: repr(v)[:20])
def test_network_create_refuses_hostile_values(app, db_session, field, value):  # type: ignore[no-untyped-def]
    from network.models import Network, User

    values = dict(GOOD, email=GOOD["email"].format(tag=uuid.uuid4().hex[:8]), name=f"{GOOD['name']} {uuid.uuid4().hex[:6]}")
    values[field] = value
    before = (db_session.scalar(select(func.count()).select_from(Network)),
              db_session.scalar(select(func.count()).select_from(User)))
    result = app.test_cli_runner().invoke(args=[
        "network", "create", values["name"], "--admin-email", values["email"], "--admin-password", values["password"],
        "--admin-name", values["admin_name"], "--timezone", values["timezone"]])
    db_session.rollback()
    assert result.exit_code == 1, (field, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "Error:" in result.output
    assert (db_session.scalar(select(func.count()).select_from(Network)),
            db_session.scalar(select(func.count()).select_from(User))) == before


def test_network_create_with_good_values(app, db_session):  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:8]
    result = app.test_cli_runner().invoke(args=[
        "network", "create", f"{GOOD['name']} {tag}", "--admin-email", GOOD["email"].format(tag=tag),
        "--admin-password", GOOD["password"], "--timezone", "Asia/Bangkok"])
    assert result.exit_code == 0, result.output
