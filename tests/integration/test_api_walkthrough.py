"""docs/api.md's walk-through works when pasted: every variable it uses is set by it, and run as it is
(bash with ``set -u``, curl and jq) against the demo on the embedded default it opens a round, orders for
the leader's group, closes the round and reads the purchase order and the group's bill."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import ROOT

DOC = ROOT / "docs" / "api.md"


def walkthrough() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Walk-through", 1)[1]
    found = re.search(r"```sh\n(.*?)```", section, re.S)
    assert found, "docs/api.md has no ```sh block under its Walk-through"
    return found.group(1)


def test_every_variable_the_walkthrough_uses_is_set_before_it_is_used():
    script = walkthrough()
    assigned: set[str] = set()
    unset: list[str] = []
    for number, line in enumerate(script.splitlines(), 1):
        code = line.split(" # ")[0]
        for name in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", code):
            if name not in assigned and not re.search(rf"\${{{name}:-", code):
                unset.append(f"line {number}: ${name}")
        assigned.update(re.findall(r"(?:^|[\s;(])([A-Za-z_][A-Za-z0-9_]*)=", code))
        assigned.update(re.findall(r"\bfor\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\b", code))
        assigned.update(re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*)\(\)\s*\{", code))
    assert unset == []


def _env(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_QUEUE")}
    env.update(RUAMSUE_INSTANCE=str(instance), SECRET_KEY="walkthrough-test-secret")
    return env


def test_the_walkthrough_runs_as_pasted_against_the_demo(tmp_path):
    # scripts/ensure-services installs them; a machine without them fails here rather than skipping.
    assert shutil.which("curl") and shutil.which("jq") and shutil.which("bash"), "needs bash, curl and jq"
    from tests.browser.live import free_port

    env = _env(tmp_path)
    for args in (("db", "upgrade"), ("demo", "seed")):
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "4", "-b", f"127.0.0.1:{port}",
                               "wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(base + "/login", timeout=2).read()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.3)
        # Pasted into a shell that stops at the first unset variable or failing pipe.
        ran = subprocess.run(["bash", "-euo", "pipefail", "-c", walkthrough()], env=dict(env, BASE=base),
                             capture_output=True, text=True, timeout=180)
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()
    assert ran.returncode == 0, (ran.stdout[-2000:], ran.stderr[-2000:])
    out = ran.stdout
    assert '"open"' in out and "\nsucceeded\n" in out, out[-3000:]
    # The last two answers (jq writes each from the start of a line): the purchase orders, the group's order.
    answers = [json.loads(doc) for doc in re.findall(r"^[\[{].*?^[\]}]$", out, re.S | re.M)]
    purchase_orders, order = answers[-2], answers[-1]
    assert len(purchase_orders) == 1 and purchase_orders[0]["total"] not in (None, "0.00"), purchase_orders
    assert [(line["quantity"], line["allocated"]) for line in order["lines"]] == [(18, 20)], order
