"""Each file one job: no source file outside tests/ and migrations/ reaches 500 lines."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP = {"tests", "migrations", ".venv", "node_modules", "instance", "build", "dist"}
LIMIT = 500


def test_no_source_file_reaches_500_lines() -> None:
    long = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in SKIP or rel.parts[0].startswith(".") or "site-packages" in rel.parts:
            continue
        count = len(path.read_text(encoding="utf-8").splitlines())
        if count >= LIMIT:
            long[str(rel)] = count
    assert long == {}
