"""Paying on the embedded default (SQLite, nothing but Python): receipt numbers follow on from the demo's,
a slip used twice is refused, a cancellation takes its own number, the QR decodes to the payload."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT
from tests.integration.test_embedded_default import _env, _flask

SCRIPT = r'''
from core import create_app
from tests.paying_support import decode_svg_qr, slip_payload, slip_png
app = create_app()
assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
c = app.test_client()
def token(email):
    r = c.post("/api/v1/tokens", json={"email": email, "password": "ruamsue-demo"})
    return {"Authorization": "Bearer " + r.json["token"]}
admin, committee = token("admin@ruamsue.demo"), token("committee@ruamsue.demo")
assert c.patch("/api/v1/network", headers=admin, json={"promptpay_id": "0812345678"}).status_code == 200
assert c.patch("/api/v1/network", headers=admin, json={"promptpay_id": "1111111111111"}).status_code == 422
rounds = [r for r in c.get("/api/v1/rounds", headers=committee).json if r["state"] in ("combined", "delivered", "settled")]
invoices = [i for r in rounds for i in c.get(f"/api/v1/rounds/{r['id']}/invoices", headers=committee).json
            if i["outstanding"] != "0.00"]
assert len(invoices) >= 2, invoices
before = c.get(f"/api/v1/invoices/{invoices[0]['id']}", headers=committee).json
demo_numbers = sorted(p["receipt_number"] for i in invoices
                      for p in c.get(f"/api/v1/invoices/{i['id']}", headers=committee).json["payments"])
slip = slip_png(slip_payload("20261204SQLITE0001"))
a = c.post(f"/api/v1/invoices/{invoices[0]['id']}/payments", headers=committee, json={"amount": "1.00", "slip": slip})
assert a.status_code == 201, a.json
b = c.post(f"/api/v1/invoices/{invoices[1]['id']}/payments", headers=committee, json={"amount": "1.00", "slip": slip})
assert b.status_code == 409, b.json
d = c.post(f"/api/v1/invoices/{invoices[1]['id']}/payments", headers=committee, json={"amount": "2.00"})
year, n = a.json["receipt_number"].split("/")
assert d.json["receipt_number"] == f"{year}/{int(n) + 1:06d}", (a.json, d.json)
x = c.post(f"/api/v1/payments/{a.json['id']}/cancel", headers=committee, json={"reason": "ผิด"})
assert x.status_code == 201 and x.json["number"] == f"{year}/000001", x.json
after = c.get(f"/api/v1/invoices/{invoices[0]['id']}", headers=committee).json
assert after["due"] == before["due"], (before, after)
svg = c.get(f"/api/v1/invoices/{invoices[0]['id']}/promptpay.svg", headers=committee).get_data(as_text=True)
assert decode_svg_qr(svg) == [after["payment"]["payload"]]
print("OK", demo_numbers, a.json["receipt_number"], d.json["receipt_number"])
'''


def test_paying_on_sqlite(tmp_path):  # type: ignore[no-untyped-def]
    assert _flask(tmp_path, "db", "upgrade").returncode == 0
    seeded = _flask(tmp_path, "demo", "seed")
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    run = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0 and "OK" in run.stdout, run.stderr[-3000:]
