"""A version beyond any a connection can reach is answered like any version it does not have,
on either store (beyond 64 bits it was SQLite's integer overflow, a 500)."""

from __future__ import annotations

import pytest

from tests.mail.test_mail import create


@pytest.mark.parametrize(
    "version", ["9223372036854775808", "-9223372036854775809", "99999999999999999999999"]
)
def test_a_version_beyond_64_bits_is_one_the_connection_does_not_have(live, version):
    with live.client() as api:
        c = create(api)
        response = api.get(f"/v1/connections/{c['id']}", params={"version": version})
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "NOT_FOUND"
        assert version in response.json()["detail"]
        assert api.get(f"/v1/connections/{c['id']}", params={"version": 1}).status_code == 200
