"""Who may do what: requests without a valid key, revoked and read-only keys, and tenant
isolation on every route a connection has."""

from __future__ import annotations

import httpx

from tests.api.helpers import ACTIONS, VALID, assert_problem, count, create, history

# ------------------------------------------------------------------ authentication


def test_requests_without_a_valid_key_are_unauthenticated(live, api):
    c = create(api)
    url = f"{live.url}/v1/connections"
    cases = {
        "no header": {},
        "bearer without a key": {"Authorization": "Bearer"},
        "other scheme": {"Authorization": "Basic dXNlcjpwYXNz"},
        "unknown key": {"Authorization": "Bearer sk_this_key_does_not_exist"},
    }
    for name, headers in cases.items():
        for response in (
            httpx.get(url, headers=headers),
            httpx.post(url, headers=headers, json=VALID),
            httpx.get(f"{url}/{c['id']}", headers=headers),
            httpx.post(f"{url}/{c['id']}/disconnect", headers=headers),
        ):
            assert response.status_code == 401, (name, response.text)
            assert_problem(response, 401, "UNAUTHENTICATED")
    assert count(api) == 1
    assert api.get(f"/v1/connections/{c['id']}").json()["state"] == "invited"


def test_a_revoked_key_stops_working_at_once(live):
    issued = live.services.api_keys.create("tenant_a", ["connections:read", "connections:write"])
    headers = {"Authorization": f"Bearer {issued.secret}"}
    assert httpx.get(f"{live.url}/v1/connections", headers=headers).status_code == 200

    assert live.services.api_keys.revoke(issued.record.id)

    problem = assert_problem(
        httpx.get(f"{live.url}/v1/connections", headers=headers), 401, "UNAUTHENTICATED"
    )
    assert "revoked" in problem["detail"] or "unknown" in problem["detail"]
    assert_problem(
        httpx.post(f"{live.url}/v1/connections", headers=headers, json=VALID),
        401,
        "UNAUTHENTICATED",
    )


def test_a_read_only_key_may_read_but_not_write(live, api):
    c = create(api)
    with live.client("tenant_a", ["connections:read"]) as reader:
        assert reader.get("/v1/connections").status_code == 200
        assert reader.get(f"/v1/connections/{c['id']}").status_code == 200

        problem = assert_problem(reader.post("/v1/connections", json=VALID), 403, "FORBIDDEN")
        assert "connections:write" in problem["detail"]
        assert_problem(reader.post(f"/v1/connections/{c['id']}/disconnect"), 403, "FORBIDDEN")

    with live.client("tenant_a", ["webhooks:manage"]) as unrelated:
        assert_problem(unrelated.get("/v1/connections"), 403, "FORBIDDEN")

    assert count(api) == 1
    assert len(history(api, c["id"])) == 1


# ------------------------------------------------------------------ tenant isolation


def test_another_tenants_connection_is_not_found_everywhere(live, api):
    mine = create(api)
    with live.client("tenant_b") as other:
        theirs = create(other)
        absent = "00000000-0000-4000-8000-000000000000"

        for path in (
            f"/v1/connections/{mine['id']}",
            f"/v1/connections/{mine['id']}/events",
            f"/v1/connections/{mine['id']}/guide",
        ):
            problem = assert_problem(other.get(path), 404, "NOT_FOUND")
            assert "tenant" not in problem["detail"].lower()
        assert_problem(
            other.get(f"/v1/connections/{mine['id']}", params={"version": 1}), 404, "NOT_FOUND"
        )
        assert_problem(
            other.get(f"/v1/connections/{mine['id']}", params={"as_of": "2030-01-01T00:00:00Z"}),
            404,
            "NOT_FOUND",
        )
        for action in ACTIONS:
            body = {"permissions": {}} if action == "confirm_seller_central_user" else None
            assert_problem(
                other.post(f"/v1/connections/{mine['id']}/{action}", json=body), 404, "NOT_FOUND"
            )

        # Indistinguishable from a connection that does not exist at all.
        foreign = other.get(f"/v1/connections/{mine['id']}").json()
        missing = other.get(f"/v1/connections/{absent}").json()
        assert foreign["detail"].replace(mine["id"], "X") == missing["detail"].replace(absent, "X")

        assert [c["id"] for c in other.get("/v1/connections").json()["data"]] == [theirs["id"]]
        assert_problem(
            other.get("/v1/connections", params={"starting_after": mine["id"]}),
            422,
            "VALIDATION_ERROR",
        )

    assert [c["id"] for c in api.get("/v1/connections").json()["data"]] == [mine["id"]]
    after = api.get(f"/v1/connections/{mine['id']}").json()
    assert (after["state"], after["version"]) == ("invited", 1)
    assert len(history(api, mine["id"])) == 1
