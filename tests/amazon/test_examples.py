"""Amazon's published examples (tests/amazon/fixtures, sources in its README) replayed
through the real AmazonClient over loopback HTTP."""

from __future__ import annotations

import copy
import json

import pytest

from adapters.amazon import AmazonClient, AmazonError, AmazonSettings
from tests.amazon.replay import FIXTURES, example, replaying

PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"
ACCOUNT = "/sellers/v1/account"
US = "ATVPDKIKX0DER"


def client_for(base_url: str) -> AmazonClient:
    return AmazonClient(AmazonSettings.sandbox(base_url))


def test_the_guides_token_answer_gives_the_refresh_and_access_tokens() -> None:
    answer = json.loads((FIXTURES / "lwa_token_answer.json").read_text())
    with replaying({"/auth/o2/token": (200, answer)}) as (url, _), client_for(url) as amazon:
        tokens = amazon.exchange_code("SplxlOexamplebYS6WxSbIA")
    assert tokens.refresh_token == "Atzr|IQEBLzAtAhexamplewVz2Nn6f2y-tpJX2DeX"
    assert tokens.access_token == "Atza|IQEBLjAsAexampleHpi0U-Dme37rR6CuUpSR"
    assert tokens.expires_in == 3600


def test_the_models_participation_example_passes_in_north_america_without_get_account() -> None:
    answers = {PARTICIPATIONS: (200, example(PARTICIPATIONS))}
    with replaying(answers) as (url, asked), client_for(url) as amazon:
        assert amazon.check_account("Atza|example", "na", [US]) == []
    assert [p for p in asked if p.endswith(ACCOUNT)] == []


def test_the_models_account_example_passes_in_the_eu() -> None:
    answers = {
        PARTICIPATIONS: (200, example(PARTICIPATIONS)),
        ACCOUNT: (200, example(ACCOUNT)),
    }
    with replaying(answers) as (url, asked), client_for(url) as amazon:
        assert amazon.check_account("Atza|example", "eu", [US]) == []
    assert any(p.endswith(ACCOUNT) for p in asked)


def test_an_account_without_business_is_not_refused() -> None:
    # Business: "Certain fields may be omitted depending on the seller's businessType."
    account = copy.deepcopy(example(ACCOUNT))
    del account["payload"]["business"]
    answers = {PARTICIPATIONS: (200, example(PARTICIPATIONS)), ACCOUNT: (200, account)}
    with replaying(answers) as (url, _), client_for(url) as amazon:
        assert amazon.check_account("Atza|example", "eu", [US]) == []


@pytest.mark.parametrize("status", [400, 403, 404])
def test_get_account_refusing_leaves_participation_to_decide(status: int) -> None:
    # The model's own sandbox answer for a 400: {"errors": [{"code": "InvalidInput", ...}]}.
    answers = {
        PARTICIPATIONS: (200, example(PARTICIPATIONS)),
        ACCOUNT: (status, example(ACCOUNT, "400")),
    }
    with replaying(answers) as (url, _), client_for(url) as amazon:
        assert amazon.check_account("Atza|example", "eu", [US]) == []
        with pytest.raises(AmazonError) as raised:
            amazon.check_account("Atza|example", "eu", ["A1PA6795UKMFR9"])
    assert raised.value.code == "MARKETPLACE_NOT_PARTICIPATING"


def test_an_individual_plan_in_the_account_example_is_not_professional() -> None:
    account = copy.deepcopy(example(ACCOUNT))
    account["payload"]["sellingPlan"] = "INDIVIDUAL"
    answers = {PARTICIPATIONS: (200, example(PARTICIPATIONS)), ACCOUNT: (200, account)}
    with replaying(answers) as (url, _), client_for(url) as amazon:
        with pytest.raises(AmazonError) as raised:
            amazon.check_account("Atza|example", "eu", [US])
    assert raised.value.code == "NOT_PROFESSIONAL_ACCOUNT"


def test_suspended_listings_in_the_example_are_a_warning() -> None:
    participations = copy.deepcopy(example(PARTICIPATIONS))
    participations["payload"][0]["participation"]["hasSuspendedListings"] = True
    with replaying({PARTICIPATIONS: (200, participations)}) as (url, _), client_for(url) as amazon:
        warnings = amazon.check_account("Atza|example", "na", [US])
    assert [code for code, _ in warnings] == ["ACCOUNT_IN_STAGING"]
