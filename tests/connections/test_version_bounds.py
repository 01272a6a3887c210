"""A version beyond any a connection can reach is the caller's mistake, on either store (it
was SQLite's integer overflow, a 500)."""

from __future__ import annotations

import pytest

from tests.mail.test_mail import create


@pytest.mark.parametrize("version", ["9223372036854775808", "2147483648", "0", "-1"])
def test_an_impossible_version_is_a_validation_problem(live, version):
    with live.client() as api:
        c = create(api)
        response = api.get(f"/v1/connections/{c['id']}", params={"version": version})
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "VALIDATION_ERROR"
        assert api.get(f"/v1/connections/{c['id']}", params={"version": 1}).status_code == 200
