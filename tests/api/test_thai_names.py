"""Issue 29: sara am typed two ways (ำ, or ํ + า) reads the same, so it is one name everywhere names are compared:
the imports (groups, a user's group, households), the forms and the API. One rule, core.fields.thai_text, applied
by the one field module; a name stored before the rule is compared as it reads."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from core.fields import thai_text
from network.models import Group

AM = "\u0e33"             # ำ, one character
NIKHAHIT_AA = "\u0e4d\u0e32"  # ํ + า, as some keyboards type it


@pytest.mark.parametrize("typed", ["กลุ่มท\u0e4d\u0e32นา", "กลุ่มทำนา", " กลุ่มทำนา "])
def test_one_spelling_of_sara_am(typed: str) -> None:
    assert thai_text(typed.strip()) == "กลุ่มทำนา"


def test_a_tone_mark_on_sara_am_typed_either_way() -> None:
    water = "น\u0e49\u0e33"  # น้ำ as the dictionary spells it
    for typed in ("น\u0e4d\u0e49\u0e32", "น\u0e49\u0e4d\u0e32", "น\u0e33\u0e49", water):
        assert thai_text(typed) == water, [hex(ord(c)) for c in typed]


@pytest.fixture
def ctx(make_network, make_user, make_group, token_for):  # type: ignore[no-untyped-def]
    network = make_network()
    admin = make_user(network, "admin")
    return {"network": network, "admin": admin, "h": token_for(admin)}


def _import(client, headers, kind, text, dry_run="false"):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/imports", headers=headers, content_type="multipart/form-data",
                       data={"kind": kind, "dry_run": dry_run, "file": (io.BytesIO(text.encode()), "x.csv")})


def _groups(db_session, network):  # type: ignore[no-untyped-def]
    db_session.expire_all()
    return list(db_session.scalars(select(Group.name).where(Group.network_id == network.id)))


def test_a_group_typed_with_the_other_sara_am_is_not_created_twice(client, db_session, ctx):  # type: ignore[no-untyped-def]
    made = client.post("/api/v1/groups", headers=ctx["h"], json={"name": "กลุ่มทำนาบ้านคำ", "members": 10})
    assert made.status_code == 201, made.json
    # The API, the other spelling: the same group.
    again = client.post("/api/v1/groups", headers=ctx["h"], json={"name": f"กลุ่มท{NIKHAHIT_AA}นาบ้านค{NIKHAHIT_AA}"})
    assert again.status_code == 409, again.json
    # An import with the other spelling matches it: nothing new, nothing changed.
    sheet = f"ชื่อกลุ่ม,จำนวนสมาชิก\nกลุ่มท{NIKHAHIT_AA}นาบ้านค{NIKHAHIT_AA},10\n"
    imported = _import(client, ctx["h"], "groups", sheet)
    assert imported.status_code == 200, imported.json
    assert (imported.json["created"], imported.json["unchanged"]) == (0, 1)
    # Both spellings in one file: the second row is the same group.
    both = _import(client, ctx["h"], "groups", f"ชื่อกลุ่ม\nกลุ่มใหม่ทำไร่\nกลุ่มใหม่ท{NIKHAHIT_AA}ไร่\n", dry_run="true")
    assert [(e["row"], e["code"]) for e in both.json["errors"]] == [(3, "import_duplicate")]
    assert _groups(db_session, ctx["network"]) == ["กลุ่มทำนาบ้านคำ"]
    # A user's group named the other way is found.
    users = _import(client, ctx["h"], "users",
                    f"อีเมล,ชื่อ,บทบาท,กลุ่ม\nkham@example.org,คุณค{NIKHAHIT_AA},ผู้นำกลุ่ม,กลุ่มท{NIKHAHIT_AA}นาบ้านคำ\n")
    assert users.status_code == 200 and users.json["errors"] == [] and users.json["created"] == 1, users.json


def test_a_name_stored_before_the_rule_is_the_same_name(client, db_session, ctx):  # type: ignore[no-untyped-def]
    legacy = Group(network_id=ctx["network"].id, name=f"สหกรณ์ท{NIKHAHIT_AA}มาหากิน", members=5, registered_poor_members=1)
    db_session.add(legacy)
    db_session.commit()
    refused = client.post("/api/v1/groups", headers=ctx["h"], json={"name": f"สหกรณ์ท{AM}มาหากิน"})
    assert refused.status_code == 409, refused.json
    matched = _import(client, ctx["h"], "groups", f"ชื่อกลุ่ม,จำนวนสมาชิก\nสหกรณ์ท{AM}มาหากิน,5\n")
    assert matched.json["created"] == 0, matched.json  # matched, and its name now spelled the one way
    assert db_session.scalar(select(func.count()).select_from(Group).where(Group.network_id == ctx["network"].id)) == 1


def test_households_named_the_other_way_are_the_same_household(client, db_session, ctx, make_group, make_user,  # type: ignore[no-untyped-def]
                                                               token_for):
    group = make_group(ctx["network"], name="กลุ่มแม่บ้านน้ำโมง")
    leader = token_for(make_user(ctx["network"], "leader", group))
    first = client.post(f"/api/v1/groups/{group.id}/households", headers=leader, json={"name": "บ้านนายคำ"})
    assert first.status_code == 201, first.json
    second = client.post(f"/api/v1/groups/{group.id}/households", headers=leader, json={"name": f"บ้านนายค{NIKHAHIT_AA}"})
    assert second.status_code == 422 and "name" in second.json["error"]["fields"], second.json
    # The group named with its tone mark typed before ํา, the household with ํา: both found.
    sheet = f"กลุ่ม,ชื่อครัวเรือน\nกลุ่มแม่บ้านน\u0e49{NIKHAHIT_AA}โมง,บ้านนายค{NIKHAHIT_AA}\n"
    imported = _import(client, ctx["h"], "households", sheet)
    assert imported.status_code == 200 and imported.json["errors"] == [], imported.json
    assert (imported.json["created"], imported.json["unchanged"]) == (0, 1), imported.json


@pytest.mark.parametrize("typed", ["กลุ่มท\u0e4d\u0e32นา", "น\u0e4d\u0e49\u0e32", "น\u0e49\u0e4d\u0e32", "น\u0e33\u0e49",
                                   "น\u0e49\u0e33", "บ้านนายค\u0e4d\u0e32", "สหกรณ์การเกษตรท่าบ่อ จำกัด"])
def test_the_rule_spells_sara_am_as_pythainlp_normalises_it(typed: str) -> None:
    """The explicit rule (no run-time dependency) agrees with PyThaiNLP's normalize on sara am and its tone mark."""
    from pythainlp.util import normalize

    assert thai_text(typed) == normalize(typed)
