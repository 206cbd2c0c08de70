"""The leader's order page on a weak 3G signal, in Chromium with CDP network throttling.

    python -m bench.mobile [--runs 5] [--kbps 400] [--latency 400] [--offers 12]

A throwaway PostgreSQL database is built by ``flask db upgrade`` and seeded (a network, a group and its
leader, an open round with ``--offers`` offers, other groups' orders). gunicorn serves it on 127.0.0.1.
Each run is a fresh phone (a new browser context at 360x740, Thai, nothing cached, no service worker),
logged in without loading a page, then throttled (``Network.emulateNetworkConditions``: ``--kbps`` down
and up, ``--latency`` ms):

1. floor: ``GET /ping`` (a few bytes, no database) navigated to: one request's round trip at this
   throttling, the least any page can take;
2. first load of ``/rounds/<id>/order``;
3. repeat visit of the same page, once the service worker is in control (the page itself is fetched
   network first; CSS and JavaScript come from the phone).

Measured in the page (Navigation Timing, from navigation start): first contentful paint (the styled page
with the order form: the form is in the HTML and the CSS blocks rendering), DOMContentLoaded (the whole
form parsed and its JavaScript run: usable, offline saving included) and load. Also the compressed bytes
of the page, its CSS and its JavaScript (``encodedBodySize``) and any request to another origin.
Prints medians with min-max of the runs, the ratio to the floor, and PASS/FAIL against the targets
(form usable within 3 s on first load, 1 s on a repeat visit; page + CSS + JS <= 60 KB compressed).
Needs PostgreSQL (``BENCH_ADMIN_URL``) and Chromium at /usr/bin/chromium. Loopback only, bounded.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.seed import ROOT, RoundTerms, free_port, seed_open_round, stop_server, throwaway_database

CHROMIUM = os.environ.get("BENCH_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "bench-password-9"
BUDGET_BYTES = 60 * 1024
TARGET_FIRST_S, TARGET_REPEAT_S = 3.0, 1.0

TIMING_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByType('paint').find(p => p.name === 'first-contentful-paint');
  const res = performance.getEntriesByType('resource').filter(r => /\\.(css|js)$/.test(new URL(r.name).pathname));
  return {fcp: fcp ? fcp.startTime : null, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
          response_end: nav.responseEnd, page_bytes: nav.encodedBodySize,
          asset_bytes: res.reduce((n, r) => n + r.encodedBodySize, 0),
          assets: res.map(r => [new URL(r.name).pathname, r.encodedBodySize, r.transferSize])};
}"""


MOBILE_ROUND = RoundTerms(network="เครือข่ายสังคม", round="รอบปุ๋ยต้นฤดู", supplier="ร้านค้าส่งที่ {i}",
                          product="สินค้าตัวอย่างที่ {i} ปุ๋ยสูตร 15-15-15", unit="กระสอบ", offers=12, pack_size=10,
                          reference_price=Decimal("950.00"), delivery_fee=Decimal("300.00"),
                          tiers=((0, Decimal("900.00")), (100, Decimal("860.00"))))


def _seed(offers: int) -> dict[str, Any]:
    """The open round with ``offers`` offers, five groups and their orders on every other offer, and the
    leader of the first group (with a password, to log in as a phone would)."""
    from dataclasses import replace

    from werkzeug.security import generate_password_hash

    from core import create_app
    from core.db import db
    from network.models import Group, User
    from orders.models import GroupOrder, OrderLine

    app = create_app({"JOBS_MODE": "manual"})
    with app.app_context():
        network, rnd, made = seed_open_round(replace(MOBILE_ROUND, offers=offers))
        groups = [Group(network_id=network.id, name=f"กลุ่มแม่บ้านบ้านที่ {i}", district="สังคม", members=30,
                        registered_poor_members=8) for i in range(5)]
        db.session.add_all(groups)
        db.session.flush()
        leader = User(network_id=network.id, email="leader@bench.test", name="คุณสมศรี", role="leader",
                      group_id=groups[0].id, password_hash=generate_password_hash(PASSWORD), session_version=0,
                      active=True)
        db.session.add(leader)
        db.session.flush()
        now = rnd.opened_at
        for group in groups:
            order = GroupOrder(round_id=rnd.id, group_id=group.id, placed_by_id=leader.id, created_at=now,
                               updated_at=now)
            db.session.add(order)
            db.session.flush()
            for offer in made[::2]:
                db.session.add(OrderLine(group_order_id=order.id, offer_id=offer.id, quantity=10, tolerance=2,
                                         placed_at=now))
        db.session.commit()
        return {"round_id": rnd.id, "email": leader.email}


def _login(context: Any, base: str, email: str) -> None:
    """Log in over the context's own cookie jar without loading a page (nothing gets cached)."""
    page = context.request.get(base + "/login").text()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    response = context.request.post(base + "/login", form={"email": email, "password": PASSWORD,
                                                           "csrf_token": token.group(1)}, max_redirects=0)
    assert response.status == 302, f"login failed: {response.status}"


def _visit(page: Any, url: str) -> dict[str, Any]:
    page.goto(url, wait_until="load")
    page.wait_for_timeout(50)  # the paint entry is queued after load
    return dict(page.evaluate(TIMING_JS))


def _throttle_service_worker(browser: Any, page_cdp: Any, conditions: dict[str, Any]) -> bool:
    """The service worker is a target of its own: throttle it too, or the repeat visit's page (which it
    fetches, network first) would travel unthrottled."""
    import json

    context_id = page_cdp.send("Target.getTargetInfo")["targetInfo"]["browserContextId"]
    session = browser.new_browser_cdp_session()
    workers = [t for t in session.send("Target.getTargets")["targetInfos"]
               if t["type"] == "service_worker" and t.get("browserContextId") == context_id]
    for target in workers:
        sid = session.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": False})["sessionId"]
        for n, (method, params) in enumerate((("Network.enable", {}),
                                              ("Network.emulateNetworkConditions", conditions)), 1):
            session.send("Target.sendMessageToTarget",
                         {"sessionId": sid, "message": json.dumps({"id": n, "method": method, "params": params})})
    return bool(workers)


def _one_run(browser: Any, base: str, seeded: dict[str, Any], kbps: int, latency: int) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  locale="th-TH", device_scale_factor=1)
    try:
        _login(context, base, seeded["email"])
        page = context.new_page()
        foreign: list[str] = []
        page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(base) else None)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
        conditions = {"offline": False, "latency": latency, "downloadThroughput": kbps * 1000 / 8,
                      "uploadThroughput": kbps * 1000 / 8, "connectionType": "cellular3g"}
        cdp.send("Network.emulateNetworkConditions", conditions)
        floor = _visit(page, base + "/ping")
        url = f"{base}/rounds/{seeded['round_id']}/order"
        first = _visit(page, url)
        assert page.locator("#order-form").count() == 1, "the order form is not on the page"
        ready = page.evaluate("() => navigator.serviceWorker.ready.then(r => !!r.active)")
        deadline = time.monotonic() + 30
        while not page.evaluate("() => !!navigator.serviceWorker.controller"):
            assert time.monotonic() < deadline, "the service worker never took the page over"
            page.wait_for_timeout(100)
        sw_throttled = _throttle_service_worker(browser, cdp, conditions)
        repeat = _visit(page, url)
        assert page.locator("#order-form").count() == 1
        return {"floor": floor, "first": first, "repeat": repeat, "sw": ready and sw_throttled, "foreign": foreign}
    finally:
        context.close()


def _fmt(values: list[float]) -> str:
    return f"{statistics.median(values) / 1000:6.3f} s  ({min(values) / 1000:.3f}-{max(values) / 1000:.3f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="fresh phones (default 5)")
    parser.add_argument("--kbps", type=int, default=400, help="kbit/s down and up (default 400)")
    parser.add_argument("--latency", type=int, default=400, help="added latency, ms (default 400)")
    parser.add_argument("--offers", type=int, default=12, help="offers on the order page (default 12)")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 50 or not 1 <= args.offers <= 200:
        parser.error("bounded: 1 <= --runs <= 50, 1 <= --offers <= 200")
    from playwright.sync_api import sync_playwright

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = None
    with throwaway_database("mobile", keep=args.keep_db, SESSION_COOKIE_SECURE="0") as env:
        try:
            seeded = _seed(args.offers)
            log = open(Path(env["RUAMSUE_INSTANCE"]) / "gunicorn.log", "wb")  # noqa: SIM115
            server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", "4",
                                       "-b", f"127.0.0.1:{port}", "wsgi:app"],
                                      cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(base + "/ping", timeout=2).read()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"gunicorn did not start; see {log.name}") from None
                    time.sleep(0.3)
            runs = []
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync"])
                try:
                    for _ in range(args.runs):
                        runs.append(_one_run(browser, base, seeded, args.kbps, args.latency))
                finally:
                    browser.close()
            return _report(args, runs)
        finally:
            stop_server(server)


def _report(args: Any, runs: list[dict[str, Any]]) -> int:
    floor = [r["floor"]["response_end"] for r in runs]
    print(f"Chromium, CDP throttling {args.kbps} kbit/s down/up, {args.latency} ms latency; 360x740 th-TH; "
          f"{len(runs)} fresh phones; {args.offers} offers on the page. Median (min-max):")
    print(f"  floor: GET /ping navigated (one round trip)   {_fmt(floor)}")
    fl = statistics.median(floor)
    verdicts = []
    for visit, target in (("first", TARGET_FIRST_S), ("repeat", TARGET_REPEAT_S)):
        fcp = [r[visit]["fcp"] for r in runs if r[visit]["fcp"] is not None]
        dcl = [r[visit]["dcl"] for r in runs]
        load = [r[visit]["load"] for r in runs]
        print(f"  {visit:6} form rendered (first contentful paint) {_fmt(fcp)}  = {statistics.median(fcp) / fl:.1f} x floor")
        print(f"  {visit:6} form usable, JS run (DOMContentLoaded) {_fmt(dcl)}  = {statistics.median(dcl) / fl:.1f} x floor")
        print(f"  {visit:6} load                                   {_fmt(load)}")
        met = statistics.median(dcl) <= target * 1000 and statistics.median(fcp) <= target * 1000
        verdicts.append(met)
        print(f"  {visit:6} target <= {target:.0f} s (rendered and usable): {'met' if met else 'NOT met'}")
    fetched = [r["repeat"]["response_end"] for r in runs]
    honest = min(fetched) >= args.latency
    print(f"  repeat page fetched over the throttled network by the service worker: {_fmt(fetched)} "
          f"({'throttled' if honest else 'NOT throttled: the repeat figures are too good'})")
    verdicts.append(honest)
    first = runs[0]["first"]
    total = first["page_bytes"] + first["asset_bytes"]
    print(f"  bytes (compressed bodies, first load): page {first['page_bytes']:,} + CSS/JS {first['asset_bytes']:,} "
          f"= {total:,} B (budget {BUDGET_BYTES:,} B): {'met' if total <= BUDGET_BYTES else 'NOT met'}")
    for path, body, transfer in first["assets"]:
        print(f"      {path}: {body:,} B compressed, {transfer:,} B on the wire")
    transfer_floor = total * 8 / (args.kbps * 1000) + args.latency / 1000
    print(f"  bandwidth floor of those bytes at {args.kbps} kbit/s + one latency: {transfer_floor:.3f} s")
    repeat_assets = runs[0]["repeat"]["assets"]
    print(f"  repeat visit CSS/JS on the wire: {sum(t for _, _, t in repeat_assets):,} B (from the service worker's cache)")
    foreign = sorted({u for r in runs for u in r["foreign"]})
    print(f"  requests to other origins: {len(foreign)} {foreign[:5]}")
    verdicts += [total <= BUDGET_BYTES, not foreign, all(r["sw"] for r in runs)]
    print("RESULT:", "PASS" if all(verdicts) else "FAIL")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
