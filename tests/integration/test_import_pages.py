"""The import page without a browser: upload, the dry run's preview in Thai naming row and column, confirm
(all or nothing), a tampered confirm, the pages after a POST are Thai too (the page walk sees only GETs)."""
from __future__ import annotations

import base64
import io
import re

import pytest
from sqlalchemy import select

from network.models import Group
from tests.integration.pages_helpers import csrf, login
from tests.integration.test_thai_everywhere import english_words, unthai_numbers

GOOD = "ชื่อกลุ่ม,ประเภท,อำเภอ,จำนวนสมาชิก,สมาชิกยากจน\nสหกรณ์บ้านนา,สหกรณ์,เมือง,1200,40\n" \
       "กลุ่มทอผ้า,กลุ่มแม่บ้าน,หนองบัว,๓๕,๑๒\n"
BAD = GOOD + "=HYPERLINK(\"http://evil.example\"),สหกรณ์,เมือง,5,1\nกลุ่มเกิน,สหกรณ์,เมือง,10,20\n"


@pytest.fixture
def admin_client(client, make_network, make_user):
    network = make_network()
    admin = make_user(network, "admin")
    login(client, admin)
    return client, network


def upload(client, content: bytes, kind: str = "groups", name: str = "groups.csv"):
    token = csrf(client.get("/imports").get_data(as_text=True))
    return client.post("/imports", data={"csrf_token": token, "kind": kind, "file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def confirm(client, html: str):
    fields = dict(re.findall(r'<input[^>]*name="(csrf_token|kind|filename|content)"[^>]*value="([^"]*)"', html))
    return client.post("/imports/confirm", data=fields)


def thai(html: str) -> None:
    html = re.sub(r"<footer.*?</footer>", "", html, flags=re.S)  # the fixtures' English user and network names
    assert english_words(html) == [] and unthai_numbers(html) == []


def groups(db_session, network):
    return {g.name: g for g in db_session.scalars(select(Group).where(Group.network_id == network.id))}


def test_the_dry_run_names_each_problem_in_thai_and_offers_no_confirm(admin_client, db_session):
    client, network = admin_client
    response = upload(client, BAD.encode())
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    rows = [re.sub(r"<[^>]+>|\s+", " ", r) for r in re.findall(r"<tr>(.*?)</tr>", html.split('id="problems"')[1]
                                                                        .split("<tbody>")[1].split("</table>")[0], re.S)]
    assert len(rows) == 2
    assert "4" in rows[0] and "ชื่อกลุ่ม" in rows[0] and "สูตร" in rows[0]
    assert "5" in rows[1] and "สมาชิกยากจน" in rows[1] and "ต้องไม่มากกว่าจำนวนสมาชิก" in rows[1]
    assert 'id="confirm-import"' not in html
    thai(html)
    assert groups(db_session, network) == {}


def test_confirming_writes_every_row_and_a_second_import_changes_nothing(admin_client, db_session):
    client, network = admin_client
    preview = upload(client, b"\xef\xbb\xbf" + GOOD.encode()).get_data(as_text=True)
    assert "จะเพิ่มใหม่ 2 แก้ไข 0 ไม่เปลี่ยน 0" in preview
    thai(preview)
    response = confirm(client, preview)
    assert response.status_code == 302 and response.headers["Location"].endswith("/groups")
    page = client.get("/groups").get_data(as_text=True)
    assert "นำเข้าแล้ว 2 แถว: เพิ่มใหม่ 2 แก้ไข 0 ไม่เปลี่ยน 0" in page
    assert groups(db_session, network)["สหกรณ์บ้านนา"].members == 1200
    again = upload(client, GOOD.encode()).get_data(as_text=True)
    assert "ไม่เปลี่ยน 2" in again and 'id="preview-nothing"' in again and 'id="confirm-import"' not in again


def test_a_confirm_whose_file_was_changed_is_checked_again_and_writes_nothing(admin_client, db_session):
    client, network = admin_client
    preview = upload(client, GOOD.encode()).get_data(as_text=True)
    tampered = preview.replace(base64.b64encode(GOOD.encode()).decode(), base64.b64encode(BAD.encode()).decode())
    response = confirm(client, tampered)
    assert response.status_code == 422
    assert 'id="problems"' in response.get_data(as_text=True)
    assert groups(db_session, network) == {}


def test_a_file_that_cannot_be_read_is_explained_next_to_the_file_field(admin_client):
    client, _ = admin_client
    response = upload(client, "ชื่อกลุ่ม\nสหกรณ์".encode("cp874"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "ไฟล์ไม่ได้บันทึกเป็น" in html and "CSV UTF-8" in html
    response = upload(client, b"district\nx\n")
    assert "ไม่มีคอลัมน์ที่ต้องมี" in response.get_data(as_text=True)


def test_users_upload_after_groups(admin_client, db_session):
    client, network = admin_client
    confirm(client, upload(client, GOOD.encode()).get_data(as_text=True))
    content = f"อีเมล,ชื่อ,บทบาท,กลุ่ม\nnew-{network.id}@example.org,สมศรี,ผู้นำกลุ่ม,กลุ่มทอผ้า\n".encode()
    preview = upload(client, content, kind="users", name="users.csv").get_data(as_text=True)
    assert "จะเพิ่มใหม่ 1" in preview
    response = confirm(client, preview)
    assert response.headers["Location"].endswith("/users")
    users = client.get("/users").get_data(as_text=True)
    assert "สมศรี" in users and "ยังไม่ได้ตั้งรหัสผ่าน" in users


def test_the_invitation_pages_are_thai(admin_client, db_session, make_user):
    client, network = admin_client
    confirm(client, upload(client, GOOD.encode()).get_data(as_text=True))
    content = f"อีเมล,ชื่อ,บทบาท,กลุ่ม\nleader-{network.id}@example.org,สมศรี,ผู้นำกลุ่ม,กลุ่มทอผ้า\n".encode()
    confirm(client, upload(client, content, kind="users", name="users.csv").get_data(as_text=True))
    users = client.get("/users").get_data(as_text=True)
    user_id = re.search(r'action="/users/(\d+)/invitation"', users).group(1)
    invitation = client.post(f"/users/{user_id}/invitation", data={"csrf_token": csrf(users)})
    thai(invitation.get_data(as_text=True))
    sheet = client.post("/users/invitations", data={"csrf_token": csrf(users)}).get_data(as_text=True)
    thai(sheet)
    url = re.search(r'class="link-cell" translate="no">([^<]+)<', sheet).group(1)
    welcome = client.application.test_client().get("/" + url.split("/", 3)[3]).get_data(as_text=True)
    assert "ยินดีต้อนรับ สมศรี" in welcome
    thai(welcome)


def test_the_docs_list_every_column_of_every_kind(app):
    from pathlib import Path

    from core.imports import KINDS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "imports.md").read_text(encoding="utf-8")
    for name, kind in KINDS.items():
        section = doc.split(f"### `{name}`")[1].split("\n## ")[0].split("\n### ")[0]
        for column in kind.columns:
            assert f"`{column.key}`" in section, (name, column.key)
            for header in column.headers:
                assert header in section, (name, column.key, header)


def test_the_empty_template_reads_back_as_the_kind_s_columns(admin_client):
    from core.imports import KINDS
    from core.tables import read_table

    client, _ = admin_client
    for name, kind in KINDS.items():
        response = client.get(f"/imports/{name}.csv")
        assert response.status_code == 200 and response.data.startswith(b"\xef\xbb\xbf")
        assert read_table(f"{name}.csv", response.data, kind.columns).columns == [c.key for c in kind.columns]
    assert client.get("/imports/savings.csv").status_code == 404


def test_in_english_the_problems_name_the_english_column(client, make_network, make_user):
    login(client, make_user(make_network(), "admin"), lang="en")
    html = upload(client, "name,members\nกลุ่มหนึ่ง,abc\n".encode()).get_data(as_text=True)
    problem = re.sub(r"<[^>]+>|\s+", " ", html.split('id="problems"')[1].split("</table>")[0])
    assert "members" in problem and "Must be a whole number" in problem and "จำนวนสมาชิก" not in problem


def test_households_through_the_page(admin_client, db_session):
    from households.models import Household

    client, network = admin_client
    confirm(client, upload(client, GOOD.encode()).get_data(as_text=True))
    content = "กลุ่ม,ชื่อครัวเรือน,ผู้มีบัตรสวัสดิการแห่งรัฐ\nกลุ่มทอผ้า,บ้านเลขที่ 4,ใช่\nกลุ่มทอผ้า,บ้านเลขที่ 5,ไม่ใช่\n"
    preview = upload(client, content.encode(), kind="households").get_data(as_text=True)
    assert "จะเพิ่มใหม่ 2" in preview
    thai(preview)
    assert confirm(client, preview).status_code == 302
    names = db_session.scalars(select(Household.name).where(Household.network_id == network.id)).all()
    assert sorted(names) == ["บ้านเลขที่ 4", "บ้านเลขที่ 5"]
