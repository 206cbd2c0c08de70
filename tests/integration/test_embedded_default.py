"""The embedded default: nothing but Python — SQLite under the instance folder, jobs in-process."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def _env(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_QUEUE")}
    env["RUAMSUE_INSTANCE"] = str(instance)
    return env


def _flask(instance: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=_env(instance),
                          capture_output=True, text=True, timeout=300)


def test_demo_seeds_and_a_round_combines_in_process(tmp_path):
    assert _flask(tmp_path, "db", "upgrade").returncode == 0
    seeded = _flask(tmp_path, "demo", "seed")
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    assert "seeded" in seeded.stdout
    assert (tmp_path / "ruamsue.sqlite3").exists() and (tmp_path / "secret_key").exists()
    again = _flask(tmp_path, "demo", "seed")
    assert "there already" in again.stdout

    script = r'''
import time, sys
from core import create_app
app = create_app()
assert app.config["JOBS_MODE"] == "thread", app.config["JOBS_MODE"]
assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
c = app.test_client()
def token(email):
    r = c.post("/api/v1/tokens", json={"email": email, "password": "ruamsue-demo"})
    assert r.status_code == 201, r.json
    return {"Authorization": "Bearer " + r.json["token"]}
committee = token("committee@ruamsue.demo")
leader = token("leader@ruamsue.demo")
def kinds(auth):
    return {n["kind"] for n in c.get("/api/v1/notifications", headers=auth).json}
# The demo's people find notifications under the bell (in the app only: no LINE or e-mail configured).
assert {"round_opened", "round_combined", "delivery_shortage", "payment_recorded"} <= kinds(leader), kinds(leader)
assert "summary_ready" in kinds(committee), kinds(committee)
assert "purchase_placed" in kinds(token("seller@ruamsue.demo"))
rounds = c.get("/api/v1/rounds?state=open", headers=committee).json
assert len(rounds) == 1, rounds
rnd = c.get(f"/api/v1/rounds/{rounds[0]['id']}", headers=committee).json
group_id = [u for u in c.get("/api/v1/groups", headers=committee).json if "ท่าบ่อ จำกัด" in u["name"]][0]["id"]
put = c.put(f"/api/v1/rounds/{rnd['id']}/orders/{group_id}", headers=leader,
            json={"lines": [{"offer_id": rnd["offers"][0]["id"], "quantity": 450, "tolerance": 20}]})
assert put.status_code == 200, put.json
job = c.post(f"/api/v1/rounds/{rnd['id']}/close", headers=committee).json["job_id"]
for _ in range(100):
    state = c.get(f"/api/v1/jobs/{job}", headers=committee).json["state"]
    if state in ("succeeded", "failed"):
        break
    time.sleep(0.1)
assert state == "succeeded", state
pos = c.get(f"/api/v1/rounds/{rnd['id']}/purchase-orders", headers=committee).json
assert pos and all(po["total"] for po in pos)
mine = c.get(f"/api/v1/rounds/{rnd['id']}/orders/{group_id}", headers=leader).json
assert mine["lines"][0]["allocated"] is not None
for email in ("admin@ruamsue.demo", "committee@ruamsue.demo", "leader@ruamsue.demo", "seller@ruamsue.demo"):
    page = c.get("/login")
    import re
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
    r = c.post("/login", data={"csrf_token": csrf, "email": email, "password": "ruamsue-demo"})
    assert r.status_code == 302, (email, r.status_code)
    assert c.get("/").status_code == 200
    c.post("/logout", data={"csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                                                   c.get("/").get_data(as_text=True)).group(1)})
print("OK")
'''
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0 and "OK" in run.stdout, run.stderr[-3000:]


def test_network_create_command(tmp_path):
    assert _flask(tmp_path, "db", "upgrade").returncode == 0
    made = _flask(tmp_path, "network", "create", "เครือข่ายทดสอบ", "--admin-email", "a@example.org",
                  "--admin-password", "long-password")
    assert made.returncode == 0 and "created" in made.stdout
    twice = _flask(tmp_path, "network", "create", "เครือข่ายทดสอบ", "--admin-email", "b@example.org",
                   "--admin-password", "long-password")
    assert twice.returncode != 0 and "exists already" in twice.stderr


def test_embedded_scheduler_thread_closes_due_rounds_and_combines_them(tmp_path):
    """The embedded default's beat (RUAMSUE_SCHEDULER=1, a thread of the web process): a round whose
    deadline passed is closed and combined by the thread alone, with nobody asking."""
    assert _flask(tmp_path, "db", "upgrade").returncode == 0
    script = r'''
import os, time
from datetime import datetime, timedelta, timezone
from sqlalchemy import func, select
os.environ["RUAMSUE_SCHEDULER"] = "1"
os.environ["RUAMSUE_BEAT_INTERVAL"] = "0.5"
from core import create_app
from core.db import db
from orders.models import Allocation, BuyingRound
from tests.support import expected_allocations, seed_round
app = create_app()
assert app.config["JOBS_MODE"] == "thread", app.config["JOBS_MODE"]
with app.app_context():
    seeded = seed_round(db.session, groups=6, offers=3, suppliers=2)
    rnd = db.session.get(BuyingRound, seeded["round_id"])
    rnd.closes_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    db.session.commit()
    db.session.remove()
deadline = time.monotonic() + 30
state = None
while time.monotonic() < deadline:
    with app.app_context():
        state = db.session.get(BuyingRound, seeded["round_id"]).state
        db.session.remove()
    if state == "combined":
        break
    time.sleep(0.2)
assert state == "combined", state
with app.app_context():
    got = dict(db.session.execute(select(Allocation.order_line_id, Allocation.allocated)).all())
    assert len(got) == 6 * 3 and got == expected_allocations(db.session, seeded["round_id"]), got
print("OK")
'''
    env = _env(tmp_path)
    env.pop("RUAMSUE_SCHEDULER", None)
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0 and "OK" in run.stdout, run.stderr[-3000:]
