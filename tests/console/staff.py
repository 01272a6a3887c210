"""Signing a member of staff in to the console over real HTTP, as a browser would: the
sign-in form (its CSRF token and cookie), the mailed link (kept by the sandbox mailbox),
the link's page and its button."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.conftest import LiveService

TENANT = "tenant_a"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def browser(live: LiveService) -> httpx.Client:
    return httpx.Client(base_url=live.url, timeout=30, headers={"Accept": "text/html"})


def add(live: LiveService, email: str, role: str, tenant: str = TENANT) -> None:
    live.services.console.people.add(tenant, email, role)


def mailed_links(live: LiveService, email: str) -> list[str]:
    """The sign-in links mailed to `email` that still work, as the mail's text shows them."""
    mail = live.services.mail
    mail.run_once()
    links = []
    for row in mail.tables.latest(500):
        if row.kind == "console_sign_in" and row.recipient == email:
            text = mail.composer.render(row)[1]
            link = re.search(r"http://\S+/console/sign-in/\S+", text).group(0)
            if live.services.console.links.mail_of(link.rsplit("/", 1)[1]) is not None:
                links.append(link)
    return links


def ask_for_link(http: httpx.Client, email: str) -> httpx.Response:
    token = csrf_of(http.get("/console/sign-in").text)
    return http.post("/console/sign-in", data={"email": email, "csrf": token})


def sign_in(live: LiveService, email: str, role: str | None = None) -> httpx.Client:
    """A client holding a console session of `email` (added with `role` first, if given)."""
    if role is not None:
        add(live, email, role)
    http = browser(live)
    assert ask_for_link(http, email).status_code == 200
    link = mailed_links(live, email)[0]
    page = http.get(link)
    assert page.status_code == 200, page.text
    answer = http.post(link, data={"csrf": csrf_of(page.text)})
    assert answer.status_code == 303 and answer.headers["location"] == "/console", answer.text
    return http


def session_csrf(http: httpx.Client, path: str = "/console") -> str:
    return csrf_of(http.get(path).text)


def new_connection(live: LiveService, **fields: Any) -> dict[str, Any]:
    with live.client(TENANT) as api:
        body = {
            "owner_email": "owner@example.com",
            "region": "na",
            "marketplace_ids": ["ATVPDKIKX0DER"],
            **fields,
        }
        response = api.post("/v1/connections", json=body)
        assert response.status_code == 201, response.text
        return response.json()
