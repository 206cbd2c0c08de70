"""Imports run one way (docs/architecture.md, "The layers, and which way imports run"), read from the
source with ``ast``.

Every ``import`` and ``from ... import`` of every .py file outside tests/ and migrations/ counts, including
those inside functions (a lazy import is still a dependency).

``ALLOWED`` is the explicit table: which project packages each top-level package (or module) may import.
A new package (``quotes/``, ``notifications/``) fails this test until it is added to the table, e.g.::

    "quotes": KERNEL | {"network", "orders"},

and nothing below it may list it (a lower package hooks in by the kernel's registries instead). On top
of the table, ``FORBIDDEN_RULES`` hold whatever the table says: the kernel never imports a domain (every
top-level package except core/ and pricing/ is a domain or an edge), pricing/ imports nothing of the
project and nothing outside the standard library but the solver (``PRICING_LIBRARIES``), and so on.
"""
from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {"tests", "migrations", ".venv", "node_modules", "instance", "build", "dist", "scripts"}

KERNEL = frozenset({"core", "pricing"})  # what every domain may import
ALLOWED: dict[str, frozenset[str]] = {
    "pricing": frozenset(),
    "config": frozenset(),
    "core": frozenset({"config", "pricing"}),
    "network": KERNEL,
    "orders": KERNEL | {"network"},
    "market": KERNEL | {"network"},
    # quotes/ adds its part of the summary, households/ its measured reach, through core.summary_parts:
    # reports/ imports neither.
    "reports": KERNEL | {"network", "orders", "market"},
    # Households behind a group's order: reads groups, rounds, offers and allocations; places the order.
    "households": KERNEL | {"network", "orders"},
    # Requests for quotation: reads products and suppliers, builds a draft round (orders.drafts).
    "quotes": KERNEL | {"network", "orders"},
    # Hooks in by core.notify (domains emit events; it subscribes): nothing below imports it.
    "notifications": KERNEL | {"network"},
    # Edges: they import the domains; nothing imports them.
    "demo": KERNEL | {"network", "orders", "market", "reports", "households"},
    # The Celery edge: the Celery app, the beat schedule and every task, each a call into a domain's service.
    "tasks": KERNEL | {"orders", "reports", "quotes", "notifications"},
    "wsgi": frozenset({"core"}),
    "bench": KERNEL | {"network", "orders", "market", "reports", "households"},
    "translations": frozenset(),
    "gunicorn.conf": frozenset(),  # gunicorn settings (hooks for multiprocess metrics)
}
# Packages that are not domains: the kernel, the rules, and settings.
NOT_DOMAINS = frozenset({"core", "pricing", "config"})


def top_level_names(root: Path = ROOT) -> set[str]:
    """Every top-level package (a directory with .py files) and module of the project."""
    names = {p.stem for p in root.glob("*.py")}
    for d in root.iterdir():
        if d.is_dir() and d.name not in SKIP_DIRS and not d.name.startswith(".") and any(d.rglob("*.py")):
            names.add(d.name)
    return names


def source_files(root: Path = ROOT) -> Iterator[tuple[str, Path]]:
    """(top-level name, file) for every .py file outside tests and migrations."""
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] in SKIP_DIRS or rel.parts[0].startswith(".") or "site-packages" in rel.parts:
            continue
        yield (rel.parts[0] if len(rel.parts) > 1 else path.stem), path


def imported_top_levels(source: str, filename: str = "<source>") -> set[str]:
    """The top-level names a piece of source imports (absolute imports; relative ones stay inside)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def forbidden_rules(owner: str, target: str, domains: set[str]) -> str | None:
    """Why ``owner`` importing ``target`` breaks a rule of the architecture, or None."""
    if owner == target:
        return None
    if owner == "pricing":
        return "pricing/ is pure: it imports nothing of the project"
    if target == "tasks":
        return "tasks/ is the Celery edge: the app factory loads it by name (config.TASKS); nothing imports it"
    if owner == "core" and target in domains:
        return "the kernel (core/) never imports a domain: the domain registers with the kernel"
    if owner == "network" and target in {"orders", "market", "reports"}:
        return "network/ never imports orders/, market/ or reports/"
    if {owner, target} == {"orders", "market"}:
        return "orders/ and market/ never import each other"
    if owner in {"orders", "market", "network"} and target == "reports":
        return "a domain never imports reports/"
    if owner in {"network", "orders", "market"} and target == "households":
        return "households/ sits above orders/ and network/: they never import it"
    if owner in {"network", "orders", "market"} and target == "quotes":
        return "quotes/ sits above orders/ and network/: they never import it"
    if owner == "reports" and target == "quotes":
        return "reports/ never imports quotes/: quotes/ adds its part of the summary by core.summary_parts"
    if owner == "reports" and target == "households":
        return "reports/ never imports households/: households/ registers its measured reach by core.summary_parts"
    return None


def violations(root: Path = ROOT) -> list[str]:
    project = top_level_names(root)
    domains = project - NOT_DOMAINS
    found: list[str] = []
    for owner, path in source_files(root):
        targets = imported_top_levels(path.read_text(encoding="utf-8"), str(path)) & project
        allowed = ALLOWED.get(owner)
        where = path.relative_to(root)
        if allowed is None:
            found.append(f"{where}: {owner!r} is not in the import table (tests/unit/test_imports.py ALLOWED)")
            continue
        for target in sorted(targets - {owner}):
            rule = forbidden_rules(owner, target, domains)
            if rule is not None:
                found.append(f"{where}: imports {target} — {rule}")
            elif target not in allowed:
                found.append(f"{where}: imports {target}, which {owner} may not import (ALLOWED[{owner!r}])")
    return found


def test_imports_run_one_way() -> None:
    assert violations() == []


def test_the_table_itself_keeps_the_rules() -> None:
    domains = top_level_names() - NOT_DOMAINS
    broken = [(owner, target, rule) for owner, targets in ALLOWED.items() for target in targets
              if (rule := forbidden_rules(owner, target, domains)) is not None]
    assert broken == []


# The one library the pure rules may use: the exact solver of the best award (pricing/award_solver.py).
# It is plain data in, plain data out too: no web, database or jobs.
PRICING_LIBRARIES = frozenset({"ortools"})


def test_pricing_imports_only_the_standard_library_and_the_solver() -> None:
    outside = {name for _, path in source_files() if path.relative_to(ROOT).parts[0] == "pricing"
               for name in imported_top_levels(path.read_text(encoding="utf-8"))
               if name not in sys.stdlib_module_names and name not in ("pricing", "__future__")}
    assert outside <= PRICING_LIBRARIES


def test_every_domain_is_loaded_by_the_app_factory_from_config() -> None:
    import config

    missing = {name for name in config.DOMAINS if not (ROOT / name / "app.py").exists()}
    assert missing == set()


def test_only_the_celery_edge_imports_celery() -> None:
    """Neither the kernel nor a domain imports Celery: its app and every task live in tasks/."""
    importers = {str(path.relative_to(ROOT)) for owner, path in source_files() if owner != "tasks"
                 and "celery" in imported_top_levels(path.read_text(encoding="utf-8"))}
    assert importers == set()


@pytest.mark.parametrize(("owner", "source", "expected"), [
    ("core", "def f():\n    from orders.models import Offer\n", "never imports a domain"),
    ("core", "import quotes.services\n", "never imports a domain"),  # a future domain, not in any table
    ("pricing", "from core.db import db\n", "pricing/ is pure"),
    ("network", "from reports import services\n", "network/ never imports"),
    ("market", "from orders.price_list import parse_money\n", "never import each other"),
    ("orders", "import market.services\n", "never import each other"),
    ("orders", "from reports.services import x\n", "never imports reports/"),
    ("network", "from demo.seed import seed\n", "may not import"),
    ("orders", "from tasks.orders import close_due_rounds\n", "tasks/ is the Celery edge"),
    ("reports", "from quotes.award import awarded_between\n", "reports/ never imports quotes/"),
    ("core", "import tasks\n", "tasks/ is the Celery edge"),
])
def test_a_forbidden_edge_is_caught(tmp_path: Path, owner: str, source: str, expected: str) -> None:
    """The checker fails on each kind of forbidden edge (in a scratch tree, so the real one stays clean)."""
    for name in ("core", "pricing", "network", "orders", "market", "reports", "demo", "quotes", "tasks"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / owner / "bad.py").write_text(source)
    (tmp_path / "quotes" / "__init__.py").write_text("")
    ALLOWED.setdefault("quotes", KERNEL | {"network", "orders"})
    try:
        found = violations(tmp_path)
    finally:
        if "quotes" in ALLOWED and "quotes" not in top_level_names():
            del ALLOWED["quotes"]
    assert len(found) == 1 and expected in found[0], found


def test_an_unknown_package_must_be_added_to_the_table(tmp_path: Path) -> None:
    (tmp_path / "newdomain").mkdir()
    (tmp_path / "newdomain" / "services.py").write_text("from core.db import db\n")
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "__init__.py").write_text("")
    found = violations(tmp_path)
    assert len(found) == 1 and "not in the import table" in found[0], found
