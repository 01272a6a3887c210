"""A selling partner id is Amazon's upper-case alphanumerics wherever it enters (SPEC §12):
an import and Amazon's redirect alike refuse anything else, a lower-case copy included,
so one seller never becomes two."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import new_connection
from tests.credentials.helpers import SCOPES
from tests.credentials.test_import import BODY


@pytest.mark.parametrize("spid", ["a1imported0001", "A1IMPORTED0001 ", "A1-IMPORTED", "\uff211"])
def test_an_import_names_its_seller_in_amazons_spelling_only(live, spid):
    with live.client(scopes=SCOPES) as api:
        answer = api.post("/v1/connections/import", json={**BODY, "selling_partner_id": spid})
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "VALIDATION_ERROR"
        assert api.get("/v1/connections").json()["data"] == []


def test_amazons_redirect_with_a_lower_case_seller_records_no_authorization(live):
    with live.client() as api:
        c = new_connection(api)
        url = api.post(f"/v1/connections/{c['id']}/start_authorization").json()["consent_url"]
        page = httpx.get(f"{url}&sandbox_outcome=approve", timeout=30)
        callback = page.headers["location"].replace("selling_partner_id=", "selling_partner_id=a")
        answer = httpx.get(callback, headers={"Accept": "application/json"}, timeout=30)
        assert answer.json()["succeeded"] is False, answer.text
        assert answer.json()["error"]["code"] == "TOKEN_EXCHANGE_FAILED"
        after = api.get(f"/v1/connections/{c['id']}").json()
        assert after["state"] == "invited"  # back where a failed attempt leaves it
        assert after["selling_partner_id"] is None
        assert after["last_error"]["code"] == "TOKEN_EXCHANGE_FAILED"


def test_a_login_uri_callback_outside_ascii_is_refused_not_a_crash(live):
    """U+FF0F (a fullwidth solidus) made urlsplit raise: a 500 before."""
    with httpx.Client(base_url=live.url, timeout=30) as browser:
        answer = browser.get(
            "/v1/oauth/amazon/login",
            params={
                "amazon_callback_uri": "https://sellercentral.amazon.com\uff0fapps/authorize/confirm",
                "amazon_state": "state",
                "selling_partner_id": "A1SELLER",
            },
            headers={"Accept": "application/json"},
        )
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "VALIDATION_ERROR"
