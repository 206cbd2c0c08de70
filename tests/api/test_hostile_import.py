"""The price-list CSV import driven with the same hostile values as the forms and the API
(tests/api/test_hostile_input.py): each is refused naming its row and column, nothing is stored."""
from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders.price_list import THAI_HEADINGS
from tests.api.authz_world import COMMITTEE
from tests.api.test_hostile_input import (
    EXAMPLES,
    FORM_BAD,
    fingerprint,
    world,  # noqa: F401 - the fixture
)
from tests.integration.pages_helpers import csrf, login

# --- the price-list CSV import ------------------------------------------------------------------------

CSV_HEADER = "product,unit,category,pack_size,min_quantity,reference_price,delivery_fee,tiers"
CSV_FIELDS = {"product": "text", "unit": "text", "category": "text", "pack_size": "qty", "min_quantity": "qty",
              "reference_price": "money", "delivery_fee": "money"}


def _csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def test_price_list_import_refuses_hostile_values_naming_row_and_column(app, world, db_session):  # type: ignore[no-untyped-def]  # noqa: F811
    """The same hostile values in each column of a price list: the import refuses the file naming the
    row and the column, stores nothing (no NUL, no silent cut to 200 characters), and never a 5xx."""
    import io

    client = app.test_client()
    login(client, world["users"][COMMITTEE])
    token = csrf(client.get("/suppliers").get_data(as_text=True))
    good = {"product": "ปุ๋ยยูเรีย", "unit": "กระสอบ", "category": "ปุ๋ย", "pack_size": "1", "min_quantity": "0",
            "reference_price": "950", "delivery_fee": "0", "tiers": "0:900;20:880"}

    def post(row: dict[str, str]) -> Any:
        content = CSV_HEADER + "\n" + "ปุ๋ยอินทรีย์,กระสอบ,ปุ๋ย,1,0,500,0,0:450\n" + ",".join(
            _csv_cell(row[c]) for c in CSV_HEADER.split(",")) + "\n"
        return client.post("/price-lists", content_type="multipart/form-data", data={
            "csrf_token": token, "import-supplier_id": str(world["supplier"].id),
            "import-round_id": str(world["draft"].id),
            "import-file": (io.BytesIO(content.encode()), "prices.csv")})

    before = fingerprint(db_session)
    tried: list[str] = []

    @given(data=st.data())
    @settings(max_examples=EXAMPLES * len(CSV_FIELDS), deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def attack(data: st.DataObject) -> None:
        column = data.draw(st.sampled_from(sorted(CSV_FIELDS)), label="column")
        value = data.draw(st.sampled_from(FORM_BAD[CSV_FIELDS[column]]), label="value")
        response = post({**good, column: value})
        db_session.rollback()
        tried.append(column)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, (column, repr(value)[:60], response.status_code, html[:600])
        # The page names the column by the file's Thai header.
        assert f"บรรทัด 3 · {THAI_HEADINGS[column]}:" in html, (column, repr(value)[:60], "row and column not named")
        assert fingerprint(db_session) == before, (column, repr(value)[:60], "a row changed")

    attack()
    assert set(tried) == set(CSV_FIELDS), "some column was never attacked"
    accepted = post({**good, "reference_price": "๙๕๐", "product": "ปุ๋ย " + "ก" * 190})
    db_session.rollback()
    assert accepted.status_code == 302, accepted.get_data(as_text=True)[:800]
    assert fingerprint(db_session) != before, "the untouched file wrote nothing"
