"""The authorization matrix of the pages: every page and every form post × every role (the API's matrix is
tests/api/test_authz_matrix.py, the world both use tests/api/authz_world.py)."""
from __future__ import annotations

from tests.api.authz_world import (
    ADMIN,
    ANON,
    COMMITTEE,
    LEADER,
    OTHER_LEADER,
    OUTSIDER,
    ROLES,
    SELLER,
    Browser,
    audit_count,
    login_client,
    page_rules,
    page_url,
)


def P(default: int, **by_role: int) -> dict[str, int]:  # noqa: N802 - reads as a table
    table = {role: default for role in ROLES}
    table[ANON] = 302
    table.update(by_role)
    return table


PAGE_COMMITTEE = P(403, admin=200, committee=200)
PAGE_GROUP_ROLES = P(200, admin=403, committee=403, outsider=403)
PAGES: dict[str, dict[str, int]] = {
    "/": P(200),
    "/jobs/<job_id>.json": P(200, outsider=404),
    "/groups": P(403, admin=200, committee=200, outsider=200),
    "/groups/<int:group_id>/edit": P(403, admin=200, leader=200, outsider=404),
    "/users": P(403, admin=200, outsider=200),
    "/rounds": P(200),
    "/rounds/<int:round_id>": P(200, outsider=404),
    "/rounds/<int:round_id>/order": P(403, leader=200, other_leader=200),
    "/rounds/<int:round_id>/order/withdraw": P(403, leader=200, other_leader=200),
    "/rounds/<int:round_id>/purchase-orders": P(403, admin=200, committee=200, outsider=404),
    "/purchase-orders/<int:po_id>": P(403, admin=200, committee=200, outsider=404),
    "/purchase-orders/<int:po_id>.csv": P(403, admin=200, committee=200, outsider=404),
    "/purchase-orders/<int:po_id>/receipt": P(403, admin=200, committee=200, outsider=404),
    "/rounds/<int:round_id>/distribution": P(403, admin=200, committee=200, outsider=404),
    "/rounds/<int:round_id>/invoices": P(200, outsider=404),
    "/invoices": PAGE_GROUP_ROLES,
    "/invoices/<int:invoice_id>": P(404, admin=200, committee=200, leader=200),
    "/payments/<int:payment_id>/receipt": P(404, admin=200, committee=200, leader=200),
    "/payments/<int:payment_id>/cancellation": P(404),
    "/network/settings": P(403, admin=200, outsider=200),
    "/suppliers": P(403, admin=200, committee=200, outsider=200),
    "/market": P(200),
    "/market/listings/<int:listing_id>": P(200, outsider=404),
    "/market/purchases": PAGE_GROUP_ROLES,
    "/market/mine": PAGE_GROUP_ROLES,
    "/market/listings/<int:listing_id>/edit": P(403, seller=200),
    "/market/sales": PAGE_GROUP_ROLES,
    "/summaries": P(403, admin=200, committee=200, outsider=200),
    # A group's people are sent to their own savings page; the outsider sees its own (empty) month.
    "/summaries/<month>": P(302, admin=200, committee=200, outsider=200),
    "/summaries/<month>.csv": P(403, admin=200, committee=200, outsider=200),
    "/summaries/<month>/charts/<kind>.svg": P(200),
    "/savings": PAGE_GROUP_ROLES,
    "/audit": P(403, admin=200, committee=200, outsider=200),
    "/rfqs": P(403, admin=200, committee=200, outsider=200),
    "/rfqs/new": P(403, admin=200, committee=200, outsider=200),
    "/rfqs/<int:rfq_id>": P(403, admin=200, committee=200, outsider=404),
    # A supplier's private link: the token is the credential, whoever is logged in (or nobody).
    "/q/<string:token>": P(200, anonymous=200),
    # A group's households: the sheet by its link (anyone holding it), the leader's pages.
    "/h/<string:sheet_token>": P(200, anonymous=200),
    "/groups/<int:group_id>/households": P(404, admin=200, committee=200, leader=200),
    "/rounds/<int:round_id>/groups/<int:group_id>/households": P(403, admin=200, committee=200, leader=200,
                                                                   outsider=404),
    "/rounds/<int:round_id>/groups/<int:group_id>/household-bills": P(403, admin=200, committee=200, leader=200,
                                                                        outsider=404),
    "/notifications": P(200),
    "/notifications/settings": P(200),
    "/admin/notifications/failed": P(403, admin=200, outsider=200),
    # Liveness and the hello-world of the load test: public, and they say nothing about any network.
    "/healthz": P(200, anonymous=200),
    "/readyz": P(200, anonymous=200),
    # No METRICS_TOKEN in the tests: the endpoint does not exist (token checks: test_operations_http).
    "/metrics": P(404, anonymous=404),
    "/ping": P(200, anonymous=200),
    # Installing the app and its service worker (issue 17): public, the same for everyone.
    "/manifest.webmanifest": P(200, anonymous=200),
    "/sw.js": P(200, anonymous=200),
    # A fresh CSRF token for a phone sending what it kept offline: only with a session.
    "/offline/token": P(200, anonymous=401),
    "/imports": P(403, admin=200, outsider=200),
    "/imports/<kind>.csv": P(403, admin=404, outsider=404),  # the world's kind ("savings") is no import
    # An invitation's link is the credential, whoever is logged in (or nobody); the world's is not one.
    "/welcome/<token>": P(404, anonymous=404),
    "/account/password": P(200),
    # A reset link: its token is the credential (the world's rfq token is no reset token: 404 for all).
    "/reset/<string:token>": P(404, anonymous=404),
}
# Not pages of their own: the login form and LINE Login's start and return, the language switch (a redirect back), static files.
def test_the_page_table_covers_every_page(app):  # type: ignore[no-untyped-def]
    rules = set(page_rules(app, "GET"))
    assert not rules - set(PAGES), f"pages without a row: {sorted(rules - set(PAGES))}"
    assert not set(PAGES) - rules, f"rows for pages that do not exist: {sorted(set(PAGES) - rules)}"


def test_each_role_sees_exactly_the_pages_it_may(app, client, world_factory):  # type: ignore[no-untyped-def]
    w = world_factory()
    clients = {role: login_client(app, user) for role, user in w["users"].items()}
    clients[ANON] = Browser(app)
    failures = []
    cells = 0
    for rule, statuses in sorted(PAGES.items()):
        url = page_url(app, rule, w)
        for role in ROLES:
            cells += 1
            response = clients[role].get(url)
            expected = statuses[role]
            if response.status_code != expected:
                failures.append(f"GET {url} ({rule}) as {role}: {response.status_code}, expected {expected}")
                continue
            if role == ANON and expected == 302:
                assert "/login" in response.headers["Location"], (rule, response.headers["Location"])
            if (role in (ANON, OUTSIDER) or expected in (403, 404)) and response.mimetype != "image/png":
                text = response.get_data(as_text=True)
                if role != OUTSIDER:  # the footer names the user's own network: theirs to see
                    text = text.replace(w["network"].name, "")
                leaked = [s for s in w["secrets"] if s in text]
                if leaked:
                    failures.append(f"GET {url} as {role}: leaks {leaked}")
    assert not failures, "\n".join(failures)
    assert cells == len(PAGES) * len(ROLES)


def test_page_posts_need_the_right_role(app, world_factory, db_session):  # type: ignore[no-untyped-def]
    """Every page form, posted with a valid CSRF token by a role that may not use it: 403/404, nothing written."""
    from tests.integration.pages_helpers import csrf

    w = world_factory()
    # Who may post each form (everyone else must be refused before anything happens).
    may_post = {
        "/logout": set(ROLES) - {ANON},
        "/groups": {ADMIN, OUTSIDER},
        "/groups/<int:group_id>/edit": {ADMIN, LEADER},
        "/network/settings": {ADMIN, OUTSIDER},
        "/payments/<int:payment_id>/receipt": {ADMIN, COMMITTEE},
        "/users": {ADMIN, OUTSIDER},
        "/rounds": {ADMIN, COMMITTEE, OUTSIDER},
        "/rounds/<int:round_id>/offers": {ADMIN, COMMITTEE},
        "/rounds/<int:round_id>/open": {ADMIN, COMMITTEE},
        "/rounds/<int:round_id>/close": {ADMIN, COMMITTEE},
        "/rounds/<int:round_id>/combine": {ADMIN, COMMITTEE},
        "/rounds/<int:round_id>/order": {LEADER, OTHER_LEADER},
        "/rounds/<int:round_id>/order/withdraw": {LEADER, OTHER_LEADER},
        "/purchase-orders/<int:po_id>/receipt": {ADMIN, COMMITTEE},
        "/invoices/<int:invoice_id>": {ADMIN, COMMITTEE},
        "/suppliers": {ADMIN, COMMITTEE, OUTSIDER},
        "/products": {ADMIN, COMMITTEE, OUTSIDER},
        "/price-lists": {ADMIN, COMMITTEE, OUTSIDER},
        "/market/listings/<int:listing_id>": {LEADER, OTHER_LEADER},
        "/market/mine": {LEADER, OTHER_LEADER, SELLER},
        "/market/listings/<int:listing_id>/edit": {SELLER},
        "/market/listings/<int:listing_id>/state": {SELLER},
        "/market/purchases/<int:purchase_id>/<action>": {SELLER},
        "/summaries/<month>": {ADMIN, COMMITTEE, LEADER, OTHER_LEADER, SELLER, OUTSIDER},
        "/summaries/<month>/rebuild": {ADMIN, COMMITTEE, OUTSIDER},
        "/rfqs/new": {ADMIN, COMMITTEE, OUTSIDER},
        "/rfqs/<int:rfq_id>": {ADMIN, COMMITTEE},
        "/rfqs/<int:rfq_id>/links/<int:supplier_id>": {ADMIN, COMMITTEE},
        "/q/<string:token>": set(ROLES),
        "/h/<string:sheet_token>": set(ROLES),
        "/groups/<int:group_id>/households": {ADMIN, COMMITTEE, LEADER},
        "/rounds/<int:round_id>/groups/<int:group_id>/households": {ADMIN, COMMITTEE, LEADER},
        "/notifications/<int:notification_id>/read": {LEADER},
        "/notifications/read-all": set(ROLES) - {ANON},
        "/notifications/settings": set(ROLES) - {ANON},
        "/notifications/line-link": set(ROLES) - {ANON},
        "/notifications/line/connect": set(ROLES) - {ANON},
        # LINE's signature is its only credential (and without LINE_CHANNEL_SECRET it does not exist).
        "/line/webhook": set(),
        "/admin/notifications/deliveries/<int:delivery_id>/retry": {ADMIN},
        "/imports": {ADMIN, OUTSIDER},
        "/imports/confirm": {ADMIN, OUTSIDER},
        "/users/<int:user_id>/invitation": {ADMIN},
        "/users/invitations": {ADMIN, OUTSIDER},
        "/welcome/<token>": set(ROLES),
        # LINE Login in place of a password: the link is the credential (and LINE Login is off in the tests: 404).
        "/welcome/<token>/line": set(ROLES),
        "/account/password": set(ROLES) - {ANON},
        "/reset/<string:token>": set(ROLES),
        "/users/<int:user_id>/password-reset": {ADMIN, COMMITTEE},
    }
    rules = set(page_rules(app, "POST")) | {"/login"}
    rules.discard("/login")
    assert rules == set(may_post), f"POST pages without a row: {sorted(rules ^ set(may_post))}"
    clients = {role: login_client(app, user) for role, user in w["users"].items() if role != OUTSIDER}
    token = {role: csrf(c.get("/").get_data(as_text=True)) for role, c in clients.items()}
    failures = []
    for rule, allowed in sorted(may_post.items()):
        url = page_url(app, rule, w)
        for role, c in clients.items():
            if role in allowed:
                continue
            before = audit_count(db_session)
            response = c.post(url, data={"csrf_token": token[role], "state": "paused"})
            if response.status_code not in (403, 404):
                failures.append(f"POST {url} as {role}: {response.status_code}")
            if audit_count(db_session) != before:
                failures.append(f"POST {url} as {role}: wrote to the audit trail")
    assert not failures, "\n".join(failures)
