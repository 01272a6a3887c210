"""The sandbox's Sellers API answers, for every marketplace's region and every outcome that
reaches it, validate against Amazon's JSON schema (sellers.json) with jsonschema."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import jsonschema
import pytest

from adapters.amazon import AmazonClient, AmazonSettings
from domain import marketplaces
from tests.amazon.replay import sellers_model
from tests.amazon.sandbox_server import sandbox_amazon

MODEL = sellers_model()


def validator(definition: str) -> jsonschema.Draft4Validator:
    schema = {"$ref": f"#/definitions/{definition}", "definitions": MODEL["definitions"]}
    return jsonschema.Draft4Validator(schema)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with sandbox_amazon() as url:
        yield url


def access_token(base_url: str, marketplace_id: str, outcome: str) -> str:
    amazon = AmazonClient(AmazonSettings.sandbox(base_url))
    region = marketplaces.BY_ID[marketplace_id].region
    url = amazon.consent_url(region, "con_1.s", marketplace_id=marketplace_id)
    with httpx.Client() as browser:
        location = browser.get(f"{url}&sandbox_outcome={outcome}").headers["location"]
    code = parse_qs(urlsplit(location).query)["spapi_oauth_code"][0]
    return amazon.exchange_code(code).access_token


@pytest.mark.parametrize(
    "outcome",
    ["approve", "ACCOUNT_IN_STAGING", "ACCOUNT_UNDER_REVIEW", "MARKETPLACE_NOT_PARTICIPATING"],
)
@pytest.mark.parametrize("region", ["na", "eu", "fe"])
def test_sandbox_sellers_answers_follow_amazons_schema(
    base_url: str, region: str, outcome: str
) -> None:
    first = marketplaces.in_region(region)[0].id
    headers = {"x-amz-access-token": access_token(base_url, first, outcome)}
    with httpx.Client(base_url=f"{base_url}/sandbox/amazon/{region}") as http:
        participations = http.get("/sellers/v1/marketplaceParticipations", headers=headers)
        account = http.get("/sellers/v1/account", headers=headers)
    assert participations.status_code == 200
    validator("GetMarketplaceParticipationsResponse").validate(participations.json())
    for entry in participations.json()["payload"]:
        assert entry["storeName"]
    # getAccount is served only in the EU; elsewhere the refusal is still Amazon's shape.
    assert account.status_code == (200 if region == "eu" else 403)
    validator("GetAccountResponse").validate(account.json())
    assert participations.headers["x-amzn-RateLimit-Limit"]


def test_a_schema_violation_is_caught() -> None:
    broken = {"payload": [{"marketplace": {"id": "ATVPDKIKX0DER"}, "participation": {}}]}
    with pytest.raises(jsonschema.ValidationError):
        validator("GetMarketplaceParticipationsResponse").validate(broken)
