"""POST /api/v1/imports: dry run, real run all or nothing, idempotence, problems by row and column, CSV with
and without BOM, XLSX, Thai and English headers, the field rules of every entry point, permissions."""
from __future__ import annotations

import io
import uuid

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from network.models import NO_PASSWORD, Group, User

THAI_GROUPS = "ชื่อกลุ่ม,ประเภท,อำเภอ,ตำบล,จำนวนสมาชิก,สมาชิกยากจน\n" \
              "สหกรณ์บ้านนา,สหกรณ์,เมือง,ในเมือง,120,40\n" \
              "กลุ่มแม่บ้านหนองบัว,กลุ่มแม่บ้าน,หนองบัว,โนนสูง,๓๕,๑๒\n"
ENGLISH_GROUPS = "name,kind,district,subdistrict,members,registered_poor_members\n" \
                 "Ban Na Co-op,cooperative,Mueang,Nai Mueang,\"1,200\",400\n"


@pytest.fixture
def ctx(make_network, make_user, token_for):
    network = make_network()
    admin = make_user(network, "admin")
    return {"network": network, "admin": admin, "h": token_for(admin)}


def post(client, headers, kind, content, filename="groups.csv", dry_run=None):
    data = {"kind": kind, "file": (io.BytesIO(content), filename)}
    if dry_run is not None:
        data["dry_run"] = dry_run
    return client.post("/api/v1/imports", headers=headers, data=data, content_type="multipart/form-data")


def groups_of(db_session, network):
    return {g.name: g for g in db_session.scalars(select(Group).where(Group.network_id == network.id))}


def test_dry_run_is_the_default_and_writes_nothing(client, db_session, ctx):
    response = post(client, ctx["h"], "groups", THAI_GROUPS.encode())
    assert response.status_code == 200, response.json
    assert response.json == {"kind": "groups", "dry_run": True, "rows": 2, "created": 2, "updated": 0,
                             "unchanged": 0, "errors": []}
    assert groups_of(db_session, ctx["network"]) == {}


def test_real_run_with_thai_headers_and_thai_digits_then_twice_changes_nothing(client, db_session, ctx):
    response = post(client, ctx["h"], "groups", THAI_GROUPS.encode(), dry_run="false")
    assert response.status_code == 200, response.json
    assert (response.json["created"], response.json["dry_run"]) == (2, False)
    groups = groups_of(db_session, ctx["network"])
    nong_bua = groups["กลุ่มแม่บ้านหนองบัว"]
    assert (nong_bua.kind, nong_bua.district, nong_bua.subdistrict) == ("womens_group", "หนองบัว", "โนนสูง")
    assert (nong_bua.members, nong_bua.registered_poor_members) == (35, 12)
    again = post(client, ctx["h"], "groups", THAI_GROUPS.encode(), dry_run="false")
    assert again.status_code == 200
    assert (again.json["created"], again.json["updated"], again.json["unchanged"]) == (0, 0, 2)
    assert len(groups_of(db_session, ctx["network"])) == 2


def test_english_headers_with_bom_update_a_stored_group(client, db_session, ctx, make_group):
    make_group(ctx["network"], name="Ban Na Co-op", members=10, registered_poor_members=1)
    content = ("\ufeff" + ENGLISH_GROUPS).encode("utf-8")
    assert content.startswith(b"\xef\xbb\xbf")
    response = post(client, ctx["h"], "groups", content, dry_run="false")
    assert response.status_code == 200, response.json
    assert (response.json["created"], response.json["updated"]) == (0, 1)
    group = groups_of(db_session, ctx["network"])["Ban Na Co-op"]
    db_session.refresh(group)
    assert (group.members, group.registered_poor_members, group.district) == (1200, 400, "Mueang")


def test_csv_without_bom_and_with_bom_read_the_same(client, ctx):
    plain = post(client, ctx["h"], "groups", THAI_GROUPS.encode())
    bom = post(client, ctx["h"], "groups", b"\xef\xbb\xbf" + THAI_GROUPS.encode())
    assert plain.json == bom.json
    assert plain.json["created"] == 2


def _xlsx(rows):
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_with_thai_headers(client, db_session, ctx):
    content = _xlsx([["ชื่อกลุ่ม", "อำเภอ", "จำนวนสมาชิก", "สมาชิกยากจน", "หมายเหตุ"],
                     ["กลุ่มทอผ้า", "เมือง", 30, 10, "ignored"], [None, None, None, None, None],
                     ["กลุ่มออมทรัพย์ดอนแก้ว", "ดอนแก้ว", 25.0, 5, ""]])
    response = post(client, ctx["h"], "groups", content, filename="กลุ่ม.xlsx", dry_run="false")
    assert response.status_code == 200, response.json
    assert response.json["created"] == 2
    assert groups_of(db_session, ctx["network"])["กลุ่มออมทรัพย์ดอนแก้ว"].members == 25


def test_bad_rows_are_named_by_row_and_column_and_nothing_is_written(client, db_session, ctx):
    content = ("ชื่อกลุ่ม,ประเภท,จำนวนสมาชิก,สมาชิกยากจน\n"
               "กลุ่มดี,สหกรณ์,10,2\n"                       # row 2: good
               "กลุ่มเกิน,สหกรณ์,10,20\n"                     # row 3: poor > members
               "=cmd|' /C calc'!A0,สหกรณ์,5,1\n"              # row 4: a formula
               "กลุ่มตัวเลข,สหกรณ์,สิบ,1\n"                    # row 5: not a number
               "กลุ่มดี,ร้านค้า,3,1\n"                         # row 6: duplicate and unknown kind
               f"{'ก' * 201},สหกรณ์,1,0\n"                   # row 7: too long
               ",สหกรณ์,1,0\n").encode()                      # row 8: no name
    dry = post(client, ctx["h"], "groups", content)
    assert dry.status_code == 200
    problems = {(e["row"], e["column"]) for e in dry.json["errors"]}
    assert problems == {(3, "registered_poor_members"), (4, "name"), (5, "members"), (6, "name"), (6, "kind"),
                        (7, "name"), (8, "name")}
    codes = {(e["row"], e["column"]): e["code"] for e in dry.json["errors"]}
    assert codes[(4, "name")] == "field_formula"
    assert codes[(7, "name")] == "field_too_long"
    assert dry.json["created"] == 1
    real = post(client, ctx["h"], "groups", content, dry_run="false")
    assert real.status_code == 422
    assert real.json == {**dry.json, "dry_run": False}
    assert groups_of(db_session, ctx["network"]) == {}


def test_nul_and_control_characters_are_refused(client, db_session, ctx):
    response = post(client, ctx["h"], "groups", "name,district\nกลุ่ม\x00หนึ่ง,เมือง\n".encode(), dry_run="false")
    assert response.status_code == 422
    assert response.json["errors"][0]["column"] == "name"
    assert response.json["errors"][0]["code"] == "field_control"
    assert groups_of(db_session, ctx["network"]) == {}


@pytest.mark.parametrize("content, says", [
    (b"", "empty"),
    (b"district,members\nx,1\n", "Columns missing: name"),
    ("ชื่อกลุ่ม,name\nก,ข\n".encode(), "Two columns are named name"),
    ("ชื่อกลุ่ม\nสหกรณ์".encode("cp874"), "not UTF-8"),
    (b"PK\x03\x04not really a workbook", "not an Excel workbook"),
])
def test_a_file_that_cannot_be_read_is_a_422_naming_the_file(client, ctx, content, says):
    response = post(client, ctx["h"], "groups", content)
    assert response.status_code == 422, response.json
    assert says in response.json["error"]["fields"]["file"][0]
    assert says in response.json["error"]["message"]


def test_a_cell_of_200000_characters_is_refused_by_its_column(client, ctx):
    # An unclosed quote runs to the end of the file: one enormous cell, refused by the column's length rule
    # with its row and column (as the price-list import does), never a 500 nor a silently cut name.
    response = post(client, ctx["h"], "groups", b'name\n"unclosed' + b"x" * 200_000 + b"\n")
    assert response.status_code == 200, response.json
    assert [(e["row"], e["column"], e["code"]) for e in response.json["errors"]] == [(2, "name", "field_too_long")]
    assert response.json["created"] == 0


def test_users_import_matches_by_email_and_leaves_them_waiting_for_an_invitation(client, db_session, ctx,
                                                                                  make_group):
    group = make_group(ctx["network"], name="สหกรณ์บ้านนา")
    tag = uuid.uuid4().hex[:6]
    content = (f"อีเมล,ชื่อ,บทบาท,กลุ่ม,เบอร์โทรศัพท์\n"
               f"somchai-{tag}@example.org,สมชาย ใจดี,ผู้นำกลุ่ม,สหกรณ์บ้านนา,๐๘๑-๒๓๔-๕๖๗๘\n"
               f"Malee-{tag}@Example.org,มาลี,คณะกรรมการเครือข่าย,,\n").encode()
    response = post(client, ctx["h"], "users", content, filename="users.csv", dry_run="false")
    assert response.status_code == 200, response.json
    assert response.json["created"] == 2
    leader = db_session.scalar(select(User).where(User.email == f"somchai-{tag}@example.org"))
    assert (leader.role, leader.group_id, leader.phone, leader.password_hash) == (
        "leader", group.id, "0812345678", NO_PASSWORD)  # the one phone rule: kept as digits
    assert db_session.scalar(select(User).where(User.email == f"malee-{tag}@example.org")).role == "committee"
    again = post(client, ctx["h"], "users", content, filename="users.csv", dry_run="false")
    assert (again.json["created"], again.json["updated"], again.json["unchanged"]) == (0, 0, 2)
    # Nobody logs in with an imported account before its invitation is opened.
    token = client.post("/api/v1/tokens", json={"email": leader.email, "password": "!"})
    assert token.status_code == 401


def test_users_rows_refused_by_row_and_column(client, db_session, ctx, make_network, make_user):
    other = make_user(make_network(), "committee", email=f"other-{uuid.uuid4().hex[:6]}@example.org")
    content = ("email,name,role,group\n"
               "not-an-email,A,leader,\n"                        # 2: email; leader without group
               f"{other.email},B,committee,\n"                    # 3: e-mail of another network
               f"{ctx['admin'].email},C,committee,\n"             # 4: an admin
               "x@example.org,D,ผู้จัดการ,\n"                      # 5: unknown role
               "y@example.org,E,leader,ไม่มีกลุ่มนี้\n").encode()  # 6: unknown group
    before = db_session.scalar(select(func.count()).select_from(User))
    response = post(client, ctx["h"], "users", content, dry_run="false")
    assert response.status_code == 422
    assert {(e["row"], e["column"]) for e in response.json["errors"]} == {
        (2, "email"), (2, "group"), (3, "email"), (4, "email"), (5, "role"), (6, "group")}
    assert db_session.scalar(select(func.count()).select_from(User)) == before
    db_session.refresh(other)
    assert other.name != "B"


def test_households_match_by_group_and_name_and_a_second_import_changes_nothing(client, db_session, ctx, make_group):
    from households.models import Household

    group = make_group(ctx["network"], name="สหกรณ์บ้านนา")
    content = ("กลุ่ม,ชื่อครัวเรือน,ผู้มีบัตรสวัสดิการแห่งรัฐ,เบอร์โทรศัพท์\n"
               "สหกรณ์บ้านนา,บ้านเลขที่ ๑๒,ใช่,๐๘๑-๒๓๔-๕๖๗๘\n"
               "สหกรณ์บ้านนา,นางสมศรี,ไม่ใช่,\n").encode()
    response = post(client, ctx["h"], "households", content, dry_run="false")
    assert response.status_code == 200, response.json
    assert response.json["created"] == 2
    stored = {h.name: h for h in db_session.scalars(select(Household).where(Household.group_id == group.id))}
    assert (stored["บ้านเลขที่ ๑๒"].registered_poor, stored["บ้านเลขที่ ๑๒"].phone) == (True, "0812345678")
    assert stored["นางสมศรี"].registered_poor is False
    again = post(client, ctx["h"], "households", content, dry_run="false")
    assert (again.json["created"], again.json["updated"], again.json["unchanged"]) == (0, 0, 2)


def test_households_rows_refused_by_row_and_column(client, db_session, ctx, make_group):
    from households.models import Household

    make_group(ctx["network"], name="สหกรณ์บ้านนา")
    content = ("กลุ่ม,ชื่อครัวเรือน,ผู้มีบัตรสวัสดิการแห่งรัฐ,เบอร์โทรศัพท์\n"
               "ไม่มีกลุ่มนี้,บ้าน 1,ใช่,\n"              # 2: unknown group
               "สหกรณ์บ้านนา,บ้าน 2,บางที,\n"             # 3: not yes or no
               "สหกรณ์บ้านนา,=cmd,ใช่,\n"                 # 4: a formula
               "สหกรณ์บ้านนา,บ้าน 5,ใช่,12\n"             # 5: not a phone number
               "สหกรณ์บ้านนา,บ้าน 6,,\n"                  # 6: good
               "สหกรณ์บ้านนา,บ้าน 6,ใช่,\n").encode()     # 7: the same household as row 6
    response = post(client, ctx["h"], "households", content, dry_run="false")
    assert response.status_code == 422
    assert {(e["row"], e["column"]) for e in response.json["errors"]} == {
        (2, "group"), (3, "registered_poor"), (4, "name"), (5, "phone"), (7, "name")}
    assert db_session.scalars(select(Household).where(Household.network_id == ctx["network"].id)).all() == []


def test_an_unknown_kind_is_a_422_naming_kind(client, ctx):
    response = post(client, ctx["h"], "suppliers", "name\nก\n".encode())
    assert response.status_code == 422
    assert "kind" in response.json["error"]["fields"]


@pytest.mark.parametrize("role", ["committee", "leader", "seller"])
def test_only_the_admin_imports(client, db_session, make_network, make_user, make_group, token_for, role):
    network = make_network()
    group = make_group(network)
    user = make_user(network, role, group if role != "committee" else None)
    response = post(client, token_for(user), "groups", THAI_GROUPS.encode(), dry_run="false")
    assert response.status_code == 403
    assert groups_of(db_session, network) == {group.name: group}


def test_an_import_touches_only_the_admins_network(client, db_session, ctx, make_network, make_group):
    other = make_network()
    theirs = make_group(other, name="สหกรณ์บ้านนา", members=7, registered_poor_members=1)
    response = post(client, ctx["h"], "groups", THAI_GROUPS.encode(), dry_run="false")
    assert (response.json["created"], response.json["updated"]) == (2, 0)
    db_session.refresh(theirs)
    assert theirs.members == 7
    assert set(groups_of(db_session, ctx["network"])) == {"สหกรณ์บ้านนา", "กลุ่มแม่บ้านหนองบัว"}


def test_without_a_token_is_401(client):
    response = client.post("/api/v1/imports", data={"kind": "groups"}, content_type="multipart/form-data")
    assert response.status_code == 401


def test_a_workbook_that_unpacks_to_far_more_than_its_size_is_refused(client, ctx):
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b" " * (80 * 1024 * 1024))
    assert len(out.getvalue()) < 1024 * 1024
    response = post(client, ctx["h"], "groups", out.getvalue(), filename="bomb.xlsx")
    assert response.status_code == 422
    assert "larger than" in response.json["error"]["fields"]["file"][0]


def test_a_title_above_the_header_is_skipped_and_rows_keep_the_sheet_s_numbers(client, db_session, ctx):
    content = _xlsx([["รายชื่อกลุ่มสมาชิก เครือข่ายหนองคาย"], ["ข้อมูล ณ วันที่ 1 ธ.ค. 2569"], [None],
                     ["ลำดับ", "ชื่อกลุ่ม", "จำนวนสมาชิก", "สมาชิกยากจน"],
                     [1, "กลุ่มทอผ้า", 30, 10], [2, "กลุ่มเกิน", 10, 20]])
    response = post(client, ctx["h"], "groups", content, filename="groups.xlsx")
    assert response.status_code == 200, response.json
    assert response.json["rows"] == 2
    assert [(e["row"], e["column"]) for e in response.json["errors"]] == [(6, "registered_poor_members")]


def test_no_header_within_the_first_rows_names_the_missing_column(client, ctx):
    content = ("หัวเรื่อง\n" + "\n".join(f"บรรทัด {i}" for i in range(12)) + "\nชื่อกลุ่ม\nก\n").encode()
    response = post(client, ctx["h"], "groups", content)
    assert response.status_code == 422
    assert "Columns missing: name" in response.json["error"]["message"]


def test_an_xlsx_with_title_rows_and_gaps_loses_no_row(client, db_session, ctx):
    rows = [["ทะเบียนกลุ่ม"], [None], ["ชื่อกลุ่ม", "จำนวนสมาชิก"]]
    for i in range(5000):
        rows.append([f"กลุ่ม {i}", 10])
        if i % 1000 == 999:
            rows.append([None, None])
    response = post(client, ctx["h"], "groups", _xlsx(rows), filename="big.xlsx")
    assert response.status_code == 200, response.json
    assert response.json["rows"] == 5000 and response.json["created"] == 5000
    too_many = post(client, ctx["h"], "groups", _xlsx(rows + [["กลุ่มที่เกิน", 1]]), filename="big.xlsx")
    assert too_many.status_code == 422
    assert "At most 5,000 rows" in too_many.json["error"]["message"]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated_files(client, ctx, delimiter):
    content = THAI_GROUPS.replace(",", delimiter).encode()
    response = post(client, ctx["h"], "groups", content, filename="groups.tsv")
    assert response.status_code == 200, response.json
    assert (response.json["created"], response.json["errors"]) == (2, [])
