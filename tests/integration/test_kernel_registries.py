"""The kernel's registries: page messages by code (not by English text), the menu, home items, periodic work."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="module")
def sqlite_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from core import create_app

    path: Path = tmp_path_factory.mktemp("registries") / "app.sqlite3"
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "TESTING": True})


def test_page_errors_are_translated_by_code_not_by_text(sqlite_app: Any) -> None:
    from core.errors import Conflict, InvalidInput, Msg
    from core.pages import error_text, field_text

    with sqlite_app.test_request_context("/?lang=th"):
        sqlite_app.preprocess_request()
        # The code decides, whatever the English says.
        assert error_text(Conflict(Msg("Some other wording.", "group_exists"))) == "มีกลุ่มชื่อนี้อยู่แล้ว"
        # The old English text without its code is not matched: the generic sentence of its kind.
        assert error_text(Conflict("A group of that name exists already.")) == "ทำรายการนี้ไม่ได้ในสถานะปัจจุบัน"
        assert error_text(InvalidInput("x")) == "ข้อมูลไม่ถูกต้อง กรุณาตรวจสอบ"
        assert field_text(Msg("Only 3 left.", "only_left", n=3)) == "เหลือเพียง 3"
        assert field_text("Only 3 left.") == "ค่าไม่ถูกต้อง"
    with sqlite_app.test_request_context("/?lang=en"):
        sqlite_app.preprocess_request()
        assert error_text(Conflict("Plain English.")) == "Plain English."


def test_a_msg_is_its_text_in_json() -> None:
    import json
    import pickle

    from core.errors import Msg

    msg = Msg("At most 12.50.", "at_most", amount="12.50")
    assert msg == "At most 12.50." and json.dumps({"amount": [msg]}) == '{"amount": ["At most 12.50."]}'
    again = pickle.loads(pickle.dumps(msg))
    assert (again, again.code, again.params) == (msg, "at_most", {"amount": "12.50"})


@pytest.mark.parametrize(("role", "menu"), [
    ("leader", ["network_views.home", "orders_views.rounds", "orders_views.my_invoices", "market_views.browse",
                "market_views.my_purchases", "reports_views.group_savings"]),
    ("seller", ["network_views.home", "market_views.my_listings", "market_views.sales", "market_views.browse",
                "reports_views.group_savings"]),
    ("admin", ["network_views.home", "orders_views.rounds", "orders_views.suppliers", "network_views.groups",
               "network_views.users", "market_views.browse", "reports_views.summaries", "network_views.audit"]),
])
def test_each_domain_puts_its_menu_entries_in_place(sqlite_app: Any, role: str, menu: list[str]) -> None:
    from core import pages

    wanted = sorted((link for link in pages.NAV_LINKS.values() if role in link.roles), key=lambda link: link.order)
    shown = [link.endpoint for link in wanted if link.endpoint in sqlite_app.view_functions]
    # These entries, in this order (a newer domain may add its own between them).
    assert [endpoint for endpoint in shown if endpoint in menu] == menu


def test_home_items_and_periodic_work_come_from_the_domains(sqlite_app: Any) -> None:
    from core import pages
    from core.jobs import PERIODIC

    assert {(i.key, i.slot) for i in pages.HOME_ITEMS.values()} >= {
        ("orders", "attention"), ("orders_rounds", "section"), ("market", "attention"), ("reports", "attention")}
    beat = sqlite_app.extensions["celery"].conf.beat_schedule
    assert {key: entry["task"] for key, entry in beat.items()}.items() >= {
        "close-due-rounds": "ruamsue.close_due_rounds", "dispatch-stale-jobs": "ruamsue.dispatch_stale_jobs",
        "build-due-summaries": "ruamsue.build_due_summaries"}.items()
    # The beat and the embedded scheduler are built from the same entries, and every task beat sends exists.
    assert {p.beat_key for p in PERIODIC.values()} == set(beat)
    tasks = sqlite_app.extensions["celery"].tasks
    assert all(p.task in tasks for p in PERIODIC.values())
