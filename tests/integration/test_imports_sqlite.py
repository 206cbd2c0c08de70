"""The embedded default (an SQLite file built by the same migrations): an import of groups and users, then
an invitation opened once, as on PostgreSQL (the access link's expiry compares aware UTC times there too)."""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sqlite_app(tmp_path):  # type: ignore[no-untyped-def]
    from core import create_app
    from core.db import db

    url = f"sqlite:///{tmp_path / 'ruamsue.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["DATABASE_URL"] = url
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    application = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "JOBS_MODE": "manual",
                              "SERVER_NAME": None, "SQLALCHEMY_DATABASE_URI": url})
    yield application
    with application.app_context():
        db.engine.dispose()


def test_import_and_invitation_on_sqlite(sqlite_app):  # type: ignore[no-untyped-def]
    from core.db import db
    from network.services import create_network, issue_token

    with sqlite_app.app_context():
        assert db.engine.dialect.name == "sqlite"
        create_network("เครือข่ายทดสอบ", "admin@example.org", "correct-horse-9")
        headers = {"Authorization": f"Bearer {issue_token('admin@example.org', 'correct-horse-9')}"}
        client = sqlite_app.test_client()

        def post(kind: str, content: str) -> dict:
            response = client.post("/api/v1/imports", headers=headers, content_type="multipart/form-data",
                                   data={"kind": kind, "dry_run": "false", "file": (io.BytesIO(content.encode()), "f.csv")})
            assert response.status_code == 200, response.json
            return dict(response.json)

        groups = "ชื่อกลุ่ม,อำเภอ,จำนวนสมาชิก,สมาชิกยากจน\nสหกรณ์บ้านนา,เมือง,120,40\nกลุ่มทอผ้า,หนองบัว,35,12\n"
        assert post("groups", groups)["created"] == 2
        assert post("groups", groups)["unchanged"] == 2
        users = "อีเมล,ชื่อ,บทบาท,กลุ่ม\nleader@example.org,สมชาย,ผู้นำกลุ่ม,กลุ่มทอผ้า\n"
        assert post("users", users)["created"] == 1
        listed = client.get("/api/v1/users", headers=headers).json
        leader_id = next(u["id"] for u in listed if u["email"] == "leader@example.org")
        url = client.post(f"/api/v1/users/{leader_id}/invitation", headers=headers).json["url"]
        path = "/" + url.split("/", 3)[3]
        page = client.get(path).get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        response = client.post(path, data={"password": "new-secret-42", "again": "new-secret-42", "csrf_token": token})
        assert response.status_code == 302
        assert client.get(path).status_code == 404
        assert issue_token("leader@example.org", "new-secret-42")
