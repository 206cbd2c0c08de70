"""Issue 29 in Chromium at 360×740 in Thai on a live server: the admin imports 50 groups and their leaders
from XLSX files with Thai headers, fixes the one bad row the dry run names, imports again with no change,
shares a leader's invitation, and the leader opens it, sets a password and is in; then the printed sheet.
Screenshots in test-artifacts/screenshots/import-*.png."""
from __future__ import annotations

import io
import re
import uuid
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import pytest
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from tests.browser.live import Journey, harness

pytestmark = [pytest.mark.browser]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DISTRICTS = ("เมือง", "หนองบัว", "ดอนแก้ว", "บ้านนา", "โนนสูง")


@pytest.fixture
def admin(committed) -> Any:  # type: ignore[no-untyped-def]
    from werkzeug.security import generate_password_hash

    from network.models import Network, User

    network = Network(name=f"เครือข่ายทดสอบ {uuid.uuid4().hex[:4]}", timezone="Asia/Bangkok", fee_percent=Decimal("0"))
    committed.add(network)
    committed.flush()
    user = User(network_id=network.id, email=f"admin-{uuid.uuid4().hex[:6]}@ruamsue.test", name="ผู้ดูแล",
                role="admin", password_hash=generate_password_hash(harness().PASSWORD), session_version=0, active=True)
    committed.add(user)
    committed.commit()
    return user


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def groups_file(bad_row: bool) -> bytes:
    rows: list[list[Any]] = [["ลำดับ", "ชื่อกลุ่ม", "ประเภท", "อำเภอ", "ตำบล", "จำนวนสมาชิก", "สมาชิกยากจน"]]
    for i in range(1, 51):
        members = 20 + i
        poor = members + 5 if (bad_row and i == 12) else i % 10
        rows.append([i, f"กลุ่มที่ {i} บ้านนา", "กลุ่มแม่บ้าน" if i % 2 else "สหกรณ์", DISTRICTS[i % 5], f"ตำบล {i}",
                     members, poor])
    return xlsx(rows)


def leaders_file(tag: str) -> bytes:
    rows: list[list[Any]] = [["อีเมล", "ชื่อ", "บทบาท", "กลุ่ม", "เบอร์โทรศัพท์"]]
    for i in range(1, 51):
        rows.append([f"leader{i}-{tag}@ruamsue.test", f"ผู้นำกลุ่ม {i}", "ผู้นำกลุ่ม", f"กลุ่มที่ {i} บ้านนา",
                     f"081-000-{i:04d}"])
    return xlsx(rows)


def upload(journey: Journey, kind: str, name: str, content: bytes) -> None:
    page = journey.page
    journey.go("/imports")
    page.select_option("#kind", kind)
    page.set_input_files("#file", files=[{"name": name, "mimeType": XLSX, "buffer": content}])
    page.click("form[enctype] button[type=submit]")
    page.wait_for_selector("#preview")


def text(page: Any, selector: str) -> str:
    return re.sub(r"\s+", " ", page.locator(selector).inner_text())


def test_first_day_from_the_spreadsheet(browser, server, admin, committed):  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from network.models import Group

    tag = uuid.uuid4().hex[:6]
    office = Journey(browser, server, "import-admin")
    page = office.page
    office.login(admin.email, harness().PASSWORD)
    office.go("/imports")
    assert "นำเข้าข้อมูลจากไฟล์" in text(page, "h1")
    office.shot("empty")

    # The dry run names the one bad row by its row and its Thai column, and offers no confirm.
    upload(office, "groups", "กลุ่มสมาชิก.xlsx", groups_file(bad_row=True))
    assert "ไฟล์มี 50 แถว: จะเพิ่มใหม่ 49" in text(page, "#preview-summary")
    assert "พบปัญหา 1 จุด" in text(page, "#preview-errors")
    problem = text(page, "#problems tbody tr")
    assert "13" in problem and "สมาชิกยากจน" in problem and "ต้องไม่มากกว่าจำนวนสมาชิก" in problem
    assert page.locator("#confirm-import").count() == 0
    office.shot("dry-run-problem")
    assert committed.scalar(select(func.count()).select_from(Group).where(Group.network_id == admin.network_id)) == 0

    # Fixed in the sheet: the dry run shows 50 to create; confirming writes them all.
    upload(office, "groups", "กลุ่มสมาชิก.xlsx", groups_file(bad_row=False))
    assert "จะเพิ่มใหม่ 50 แก้ไข 0 ไม่เปลี่ยน 0" in text(page, "#preview-summary")
    office.shot("dry-run-good")
    page.click("#confirm-import button")
    page.wait_for_url("**/groups")
    assert "นำเข้าแล้ว 50 แถว: เพิ่มใหม่ 50" in text(page, ".flash")
    assert page.locator("table tbody tr").count() == 50
    office.shot("groups-imported")

    # The same file again: nothing to import.
    upload(office, "groups", "กลุ่มสมาชิก.xlsx", groups_file(bad_row=False))
    assert "จะเพิ่มใหม่ 0 แก้ไข 0 ไม่เปลี่ยน 50" in text(page, "#preview-summary")
    assert page.locator("#preview-nothing").count() == 1 and page.locator("#confirm-import").count() == 0
    office.shot("reimport-unchanged")

    # Their leaders, then a leader's invitation with LINE and copy buttons.
    upload(office, "users", "ผู้นำกลุ่ม.xlsx", leaders_file(tag))
    assert "จะเพิ่มใหม่ 50" in text(page, "#preview-summary")
    page.click("#confirm-import button")
    page.wait_for_url("**/users")
    assert "นำเข้าแล้ว 50 แถว" in text(page, ".flash")
    office.shot("leaders-imported")
    row = page.locator("tr", has_text=f"leader7-{tag}@ruamsue.test")
    assert "ยังไม่ได้ตั้งรหัสผ่าน" in row.inner_text()
    row.locator("button", has_text="ลิงก์เชิญ").click()
    page.wait_for_selector("#invitation-url")
    url = page.input_value("#invitation-url")
    assert url.startswith(server + "/welcome/")
    share = page.get_attribute("#share-line", "href") or ""
    assert share.startswith("https://line.me/R/share?text=") and url in unquote(share)
    office.shot("invitation")

    # The leader opens the link on their own phone, sets a password, and is in.
    leader = Journey(browser, server, "import-leader")
    leader.page.goto(url)
    assert "ยินดีต้อนรับ ผู้นำกลุ่ม 7" in text(leader.page, "h1")
    leader.shot("welcome")
    leader.page.fill("#password", "ข้าวหอมมะลิ-2569")
    leader.page.fill("#again", "ข้าวหอมมะลิ-2569")
    leader.page.click("main button[type=submit]")
    leader.page.wait_for_url(server + "/")
    assert "ตั้งรหัสผ่านแล้ว ยินดีต้อนรับ ผู้นำกลุ่ม 7" in text(leader.page, ".flash")
    leader.shot("logged-in")
    leader.page.goto(url)
    assert "ลิงก์นี้ใช้ไม่ได้แล้ว" in text(leader.page, "h1")
    leader.close()

    # The printed sheet: everyone still waiting (49 leaders), each with a link of their own.
    office.go("/users")
    page.click("#print-invitations button")
    page.wait_for_selector("#invitation-sheet")
    assert page.locator("#invitation-sheet tbody tr").count() == 49
    assert f"leader7-{tag}" not in page.content() and "ผู้นำกลุ่ม 12" in text(page, "#invitation-sheet")
    office.shot("printed-sheet")
    office.close()
