"""The API document tells the truth: answers have the types it says, an empty PATCH is refused as it
says, and the bounds the server enforces (no negative money, fee_percent at most 100, months 01-12) are
in the document where OpenAPI can say them."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.authz_world import ADMIN, COMMITTEE, SELLER, build_world


@pytest.fixture
def world(db_session, make_network, make_group, make_user, token_for, make_round, make_offer,
          place_order):  # type: ignore[no-untyped-def]
    return build_world(db_session, make_network, make_group, make_user, token_for, make_round, make_offer,
                       place_order)


@pytest.fixture
def doc(client) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return dict(client.get("/api/v1/openapi.json").get_json())


def _schema(doc: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    ref = doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return dict(doc["components"]["schemas"][ref.rsplit("/", 1)[1]])


def test_suggestions_reference_price_is_the_documented_string(client, world, doc):  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/rfqs/suggestions?product_id={world['product'].id}",
                          headers=world["headers"][COMMITTEE])
    assert response.status_code == 200
    (item,) = response.get_json()
    assert isinstance(item["reference_price"], str) and re.fullmatch(r"\d+\.\d\d", item["reference_price"])
    answer = doc["paths"]["/api/v1/rfqs/suggestions"]["get"]["responses"]["200"]["content"]["application/json"]
    ref = answer["schema"]["items"]["$ref"].rsplit("/", 1)[1]
    assert doc["components"]["schemas"][ref]["properties"]["reference_price"]["type"] == "string"


PATCHES = [("/api/v1/network", "/api/v1/network", ADMIN), ("/api/v1/groups/{group_id}", "/api/v1/groups/{g1}", ADMIN),
           ("/api/v1/listings/{listing_id}", "/api/v1/listings/{listing}", SELLER)]


@pytest.mark.parametrize(("documented", "url", "role"), PATCHES)
def test_an_empty_patch_is_refused_as_documented(client, world, doc, documented, url, role):  # type: ignore[no-untyped-def]
    url = url.format(g1=world["g1"].id, listing=world["listing"].id)
    headers = world["headers"][role]
    for body in ({"json": {}}, {}):
        response = client.patch(url, headers=headers, **body)
        assert response.status_code == 422, (url, body, response.status_code)
        assert "at least one field" in response.get_json()["error"]["message"]
    assert doc["paths"][documented]["patch"]["requestBody"]["required"] is True
    assert _schema(doc, documented, "patch")["minProperties"] == 1


def test_business_bounds_are_in_the_document(doc):  # type: ignore[no-untyped-def]
    fee = _schema(doc, "/api/v1/network", "patch")["properties"]["fee_percent"]["pattern"]
    assert [bool(re.search(fee, v)) for v in ("0", "1.50", "100", "100.00", "-1", "100.01", "250")] == \
        [True, True, True, True, False, False, False]
    price = _schema(doc, "/api/v1/listings", "post")["properties"]["price"]["pattern"]
    assert re.search(price, "35.00") and not re.search(price, "-1.00")
    offer = _schema(doc, "/api/v1/rounds/{round_id}/offers", "post")["properties"]
    assert not re.search(offer["reference_price"]["pattern"], "-5")
    month = next(p for p in doc["paths"]["/api/v1/summaries/{month}"].get("parameters", [])
                 + doc["paths"]["/api/v1/summaries/{month}"]["get"].get("parameters", []) if p["name"] == "month")
    pattern = month["schema"]["pattern"]
    assert [bool(re.search(pattern, m)) for m in ("2026-01", "2026-12", "2026-00", "2026-13", "26-01")] == \
        [True, True, False, False, False]


def test_an_impossible_month_is_not_found(client, world):  # type: ignore[no-untyped-def]
    for month in ("2026-00", "2026-13"):
        response = client.get(f"/api/v1/summaries/{month}", headers=world["headers"][COMMITTEE])
        assert response.status_code in (404, 422), response.status_code
