"""Shared helpers of the page tests: log in through the real form, read CSRF tokens."""
from __future__ import annotations

import re
from typing import Any

PASSWORD = "correct-horse-9"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client: Any, user: Any, lang: str = "th") -> None:
    page = client.get(f"/login?lang={lang}")
    assert page.status_code == 200
    response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                           "csrf_token": csrf(page.get_data(as_text=True))})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def post_form(client: Any, page_url: str, url: str, data: dict[str, Any], **kw: Any) -> Any:
    page = client.get(page_url)
    assert page.status_code == 200, (page_url, page.status_code)
    data = dict(data, csrf_token=csrf(page.get_data(as_text=True)))
    return client.post(url, data=data, **kw)
