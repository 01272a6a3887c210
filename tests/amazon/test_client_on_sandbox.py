"""The real AmazonClient against the sandbox Amazon, served by uvicorn over loopback HTTP:
consent URLs, every outcome of both consents, the sandbox's own pages, every marketplace."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

import adapters.amazon.settings as settings_module
from adapters.amazon import AmazonClient, AmazonError, AmazonSettings, Tokens
from domain.marketplaces import ALL as ALL_MARKETPLACES
from domain.marketplaces import REGIONS, Marketplace
from service.sandbox.issued import selling_partner_id_for
from service.sandbox.outcomes import (
    ADS_OUTCOMES,
    REDIRECT_ERRORS,
    SANDBOX_OUTCOMES,
    SP_OUTCOMES,
    STOPPED_ON_AMAZON,
)
from tests import contract
from tests.amazon.sandbox_server import CALLBACK, STATE, browser, redirect_of, sandbox_amazon

MARKETPLACE_IDS = {region: tuple(ids) for region, ids in REGIONS.items()}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with sandbox_amazon() as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[AmazonClient]:
    with AmazonClient(AmazonSettings.sandbox(base_url)) as amazon:
        yield amazon


def sp_flow(amazon: AmazonClient, region: str, outcome: str, state: str = STATE) -> Tokens:
    """Consent, code exchange, account checks and one refresh, as the service runs them."""
    callback = redirect_of(f"{amazon.consent_url(region, state)}&sandbox_outcome={outcome}")
    assert callback["state"] == state
    if "error" in callback:
        raise AmazonError(
            amazon.callback_error_code(callback["error"], callback.get("error_description")),
            "consent redirect",
        )
    tokens = amazon.exchange_code(callback["spapi_oauth_code"])
    amazon.check_account(tokens.access_token, region, list(MARKETPLACE_IDS[region][:1]))
    return amazon.refresh(tokens.refresh_token)


def ads_flow(amazon: AmazonClient, region: str, outcome: str, partner: str):
    callback = redirect_of(f"{amazon.ads_consent_url(region, STATE)}&sandbox_outcome={outcome}")
    assert callback["state"] == STATE
    if "error" in callback:
        code = amazon.callback_error_code(callback["error"], callback.get("error_description"))
        raise AmazonError(code, "Ads consent redirect")
    tokens = amazon.exchange_ads_code(callback["code"], region)
    marketplaces = list(MARKETPLACE_IDS[region][:1])
    return amazon.check_advertising(tokens.access_token, region, marketplaces, partner)[0]


# Consent URLs


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("na", "sellercentral.amazon.com"),
        ("eu", "sellercentral-europe.amazon.com"),
        ("fe", "sellercentral.amazon.co.jp"),
    ],
)
def test_consent_url_opens_the_regions_seller_central_with_version_beta_for_drafts(
    region: str, host: str
) -> None:
    settings = AmazonSettings.production(
        application_id="amzn1.sp.solution.app",
        lwa_client_id="cid",
        lwa_client_secret="s",
        redirect_uri="https://svc.example/cb",
        draft=True,
    )
    url = urlsplit(AmazonClient(settings).consent_url(region, STATE))
    query = parse_qs(url.query)
    assert (url.scheme, url.netloc, url.path) == ("https", host, "/apps/authorize/consent")
    assert query == {
        "application_id": ["amzn1.sp.solution.app"],
        "state": [STATE],
        "version": ["beta"],
        "redirect_uri": ["https://svc.example/cb"],
    }
    published = dataclasses.replace(settings, draft=False, redirect_uri=None)
    assert "version" not in AmazonClient(published).consent_url(region, STATE)


def test_ads_consent_url_asks_login_with_amazon_for_campaign_management() -> None:
    settings = AmazonSettings.production(
        application_id="app",
        lwa_client_id="cid",
        lwa_client_secret="s",
        ads_redirect_uri="https://svc.example/ads",
    )
    url = urlsplit(AmazonClient(settings).ads_consent_url("eu", STATE))
    assert f"{url.netloc}{url.path}" == "eu.account.amazon.com/ap/oa"
    assert parse_qs(url.query) == {
        "client_id": ["cid"],
        "scope": ["advertising::campaign_management"],
        "response_type": ["code"],
        "redirect_uri": ["https://svc.example/ads"],
        "state": [STATE],
    }


# The happy path


@pytest.mark.parametrize("region", ["na", "eu", "fe"])
def test_approved_owner_passes_every_check_and_advertising_matches(
    client: AmazonClient, region: str
) -> None:
    callback = redirect_of(f"{client.consent_url(region, STATE)}&sandbox_outcome=approve")
    assert callback["selling_partner_id"] == selling_partner_id_for(STATE)
    assert callback["mws_auth_token"].startswith("amzn.mws.")

    tokens = client.exchange_code(callback["spapi_oauth_code"])
    assert tokens.expires_in == 3600
    client.check_account(tokens.access_token, region, list(MARKETPLACE_IDS[region]))
    refreshed = client.refresh(tokens.refresh_token)
    assert refreshed.access_token != tokens.access_token
    assert refreshed.refresh_token == tokens.refresh_token

    profile = ads_flow(client, region, "approve", callback["selling_partner_id"])
    assert profile.account_id == callback["selling_partner_id"]
    assert profile.marketplace_id == MARKETPLACE_IDS[region][0]
    assert profile.account_type == "seller"
    assert profile.profile_id.isdigit()


def test_the_same_connection_reauthorizing_gets_the_same_selling_partner_id(
    client: AmazonClient,
) -> None:
    first = redirect_of(f"{client.consent_url('na', 'con_1.sig-a')}&sandbox_outcome=approve")
    again = redirect_of(f"{client.consent_url('na', 'con_1.sig-b')}&sandbox_outcome=approve")
    other = redirect_of(f"{client.consent_url('na', 'con_2.sig-a')}&sandbox_outcome=approve")
    assert first["selling_partner_id"] == again["selling_partner_id"]
    assert first["selling_partner_id"] != other["selling_partner_id"]


def test_a_chosen_selling_partner_id_is_carried_through_to_the_ads_profiles(
    client: AmazonClient,
) -> None:
    url = f"{client.consent_url('na', STATE)}&sandbox_outcome=approve"
    assert redirect_of(f"{url}&sandbox_selling_partner_id=A1SELLER")["selling_partner_id"] == (
        "A1SELLER"
    )
    ads_url = f"{client.ads_consent_url('na', STATE)}&sandbox_outcome=approve"
    code = redirect_of(f"{ads_url}&sandbox_selling_partner_id=A1SELLER")["code"]
    tokens = client.exchange_ads_code(code)
    profile = client.check_advertising(tokens.access_token, "na", ["ATVPDKIKX0DER"], "A1SELLER")[0]
    assert profile.account_id == "A1SELLER"


# Every outcome


# Upper case outcomes are catalogue codes; lower case ones end well (approve, throttled_once...).
REFUSED = [
    o
    for o in SP_OUTCOMES
    if o.isupper() and o not in STOPPED_ON_AMAZON and o != "ACCOUNT_IN_STAGING"
]


@pytest.mark.parametrize("outcome", REFUSED)
@pytest.mark.parametrize("region", ["na", "eu"])
def test_each_sandbox_outcome_ends_in_its_catalogue_code(
    client: AmazonClient, outcome: str, region: str
) -> None:
    with pytest.raises(AmazonError) as raised:
        sp_flow(client, region, outcome)
    assert raised.value.code == outcome


@pytest.mark.parametrize("outcome", sorted(STOPPED_ON_AMAZON))
@pytest.mark.parametrize("region", ["na", "eu", "fe"])
def test_outcomes_amazon_stops_on_its_own_page_never_come_back(
    client: AmazonClient, outcome: str, region: str
) -> None:
    page = browser.get(f"{client.consent_url(region, STATE)}&sandbox_outcome={outcome}")
    assert page.status_code == 403
    assert "location" not in page.headers
    assert STOPPED_ON_AMAZON[outcome][0] in html.unescape(page.text)
    assert CALLBACK not in page.text and "href" not in page.text


def test_inactive_listings_are_a_warning_and_the_owner_still_connects(
    client: AmazonClient,
) -> None:
    callback = redirect_of(f"{client.consent_url('eu', STATE)}&sandbox_outcome=ACCOUNT_IN_STAGING")
    tokens = client.exchange_code(callback["spapi_oauth_code"])
    warnings = client.check_account(tokens.access_token, "eu", ["A1PA6795UKMFR9"])
    assert warnings == [
        ("ACCOUNT_IN_STAGING", "listings set to Inactive (hasSuspendedListings) in A1PA6795UKMFR9")
    ]


def test_a_declined_consent_comes_back_as_access_denied_on_both_flows(
    client: AmazonClient,
) -> None:
    sp = redirect_of(f"{client.consent_url('na', STATE)}&sandbox_outcome=AUTHORIZATION_DECLINED")
    ads = redirect_of(
        f"{client.ads_consent_url('na', STATE)}&sandbox_outcome=AUTHORIZATION_DECLINED"
    )
    for callback in (sp, ads):
        assert callback["error"] == REDIRECT_ERRORS["AUTHORIZATION_DECLINED"][0] == "access_denied"
        assert client.callback_error_code(callback["error"], callback["error_description"]) == (
            "AUTHORIZATION_DECLINED"
        )


@pytest.mark.parametrize("outcome", [o for o in ADS_OUTCOMES if o.isupper()])
def test_each_ads_outcome_ends_in_its_catalogue_code(client: AmazonClient, outcome: str) -> None:
    with pytest.raises(AmazonError) as raised:
        ads_flow(client, "fe", outcome, selling_partner_id_for(STATE))
    assert raised.value.code == outcome


def test_access_revoked_lets_the_authorization_complete_and_fails_the_refresh(
    client: AmazonClient,
) -> None:
    callback = redirect_of(f"{client.consent_url('na', STATE)}&sandbox_outcome=ACCESS_REVOKED")
    tokens = client.exchange_code(callback["spapi_oauth_code"])
    client.check_account(tokens.access_token, "na", ["ATVPDKIKX0DER"])
    with pytest.raises(AmazonError) as raised:
        client.refresh(tokens.refresh_token)
    assert raised.value.code == "ACCESS_REVOKED"
    assert tokens.refresh_token not in str(raised.value)


def test_a_marketplace_of_another_region_is_not_participating(client: AmazonClient) -> None:
    tokens = sp_flow(client, "na", "approve")
    with pytest.raises(AmazonError) as raised:
        client.check_account(tokens.access_token, "na", ["A1PA6795UKMFR9"])
    assert raised.value.code == "MARKETPLACE_NOT_PARTICIPATING"


def test_a_wrong_client_secret_fails_the_exchange_without_retrying(base_url: str) -> None:
    settings = dataclasses.replace(AmazonSettings.sandbox(base_url), lwa_client_secret="wrong")
    sent = []
    http = httpx.Client(event_hooks={"request": [sent.append]})
    with AmazonClient(settings, http) as amazon:
        callback = redirect_of(f"{amazon.consent_url('na', STATE)}&sandbox_outcome=approve")
        with pytest.raises(AmazonError) as raised:
            amazon.exchange_code(callback["spapi_oauth_code"])
    assert raised.value.code == "APP_CREDENTIALS_INVALID"
    assert "invalid_client" in raised.value.detail
    assert "wrong" not in str(raised.value)
    assert len(sent) == 1


def test_an_unknown_access_token_is_refused_by_the_sellers_api(client: AmazonClient) -> None:
    with pytest.raises(AmazonError) as raised:
        client.check_account("Atza|not-from-amazon", "na", ["ATVPDKIKX0DER"])
    assert raised.value.code == "INTERNAL_ERROR"
    assert "403 Unauthorized" in raised.value.detail


@pytest.mark.parametrize(
    ("error", "description", "code"),
    [
        ("access_denied", "The user denied the request.", "AUTHORIZATION_DECLINED"),
        ("access_denied", None, "AUTHORIZATION_DECLINED"),
        ("server_error", "We were unable to complete the authorization.", "INTERNAL_ERROR"),
        ("temporarily_unavailable", None, "AMAZON_UNAVAILABLE"),
        ("access_denied", "Your session has expired.", "AUTHORIZATION_EXPIRED"),
        ("invalid_request", "redirect_uri mismatch", "INTERNAL_ERROR"),
    ],
)
def test_errors_on_the_consent_redirect_map_to_catalogue_codes(
    client: AmazonClient, error: str, description: str | None, code: str
) -> None:
    assert client.callback_error_code(error, description) == code


# What a token answer must hold


def test_a_malformed_token_answer_is_a_failed_exchange(client: AmazonClient) -> None:
    url = f"{client.consent_url('na', STATE)}&sandbox_outcome=malformed_token_answer"
    callback = redirect_of(url)
    with pytest.raises(AmazonError) as raised:
        client.exchange_code(callback["spapi_oauth_code"])
    assert raised.value.code == "TOKEN_EXCHANGE_FAILED"
    assert raised.value.detail == "LWA token (authorization_code): malformed answer"


def test_get_account_is_asked_only_in_the_eu(base_url: str) -> None:
    sent: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [sent.append]})
    with AmazonClient(AmazonSettings.sandbox(base_url), http) as amazon:
        for region in ("na", "eu", "fe"):
            sp_flow(amazon, region, "approve")
    asked = [r.url.path.split("/")[3] for r in sent if r.url.path.endswith("/sellers/v1/account")]
    assert asked == ["eu"]


# The sandbox's consent pages


def test_consent_page_without_an_outcome_lets_a_person_pick_every_outcome(
    client: AmazonClient,
) -> None:
    page = browser.get(client.consent_url("eu", STATE))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<script" not in page.text and "http" not in page.text.split("<body>")[1]
    for outcome in SP_OUTCOMES:
        assert f'sandbox_outcome={outcome}"' in page.text
        assert html.escape(SANDBOX_OUTCOMES[outcome]) in page.text


def test_ads_consent_page_without_an_outcome_lists_every_ads_outcome(
    client: AmazonClient,
) -> None:
    page = browser.get(client.ads_consent_url("na", STATE))
    assert page.status_code == 200
    for outcome in ADS_OUTCOMES:
        assert f'sandbox_outcome={outcome}"' in page.text


def test_sandbox_outcomes_cover_every_seller_facing_amazon_error() -> None:
    assert set(SP_OUTCOMES) | set(ADS_OUTCOMES) == set(SANDBOX_OUTCOMES)
    assert contract.AMAZON_SIDE_CODES < set(SANDBOX_OUTCOMES)


# Secrets


def test_tokens_and_secrets_stay_out_of_reprs(client: AmazonClient) -> None:
    tokens = sp_flow(client, "na", "approve")
    assert tokens.access_token not in repr(tokens)
    assert tokens.refresh_token not in repr(tokens)
    assert "expires_in=3600" in repr(tokens)
    assert client.settings.lwa_client_secret not in repr(client.settings)
    assert client.settings.lwa_client_secret not in repr(client)


def test_sandbox_consent_refuses_a_redirect_uri_that_is_not_registered(base_url: str) -> None:
    for path in (
        "/sandbox/amazon/na/apps/authorize/consent?application_id="
        f"{settings_module.SANDBOX_APPLICATION_ID}&state=x.y&sandbox_outcome=approve",
        "/sandbox/amazon/ads/na/ap/oa?client_id="
        f"{settings_module.SANDBOX_LWA_CLIENT_ID}&response_type=code"
        "&scope=advertising::campaign_management&state=x.y&sandbox_outcome=approve",
    ):
        response = httpx.get(f"{base_url}{path}&redirect_uri=https://evil.example/steal")
        assert response.status_code == 400
        assert "location" not in response.headers


# Every marketplace


@pytest.mark.parametrize("account_type", ["seller", "vendor"])
@pytest.mark.parametrize("marketplace", ALL_MARKETPLACES, ids=lambda m: m.country_code)
def test_approve_works_for_every_marketplace_on_its_own_consent_host(
    client: AmazonClient, marketplace: Marketplace, account_type: str
) -> None:
    url = client.consent_url(
        marketplace.region, STATE, marketplace_id=marketplace.id, account_type=account_type
    )
    assert f"/sandbox/amazon/{marketplace.consent_host(account_type)}/apps/" in url
    page = browser.get(url)
    portal = "Vendor Central" if account_type == "vendor" else "Seller Central"
    assert page.status_code == 200 and portal in page.text
    callback = redirect_of(f"{url}&sandbox_outcome=approve")
    assert ("mws_auth_token" in callback) == (account_type == "seller")
    tokens = client.exchange_code(callback["spapi_oauth_code"])
    assert client.check_account(tokens.access_token, marketplace.region, [marketplace.id]) == []
    ads = redirect_of(
        f"{client.ads_consent_url(marketplace.region, STATE)}&sandbox_outcome=approve"
    )
    ads_tokens = client.exchange_ads_code(ads["code"], marketplace.region)
    [profile] = client.check_advertising(
        ads_tokens.access_token,
        marketplace.region,
        [marketplace.id],
        callback["selling_partner_id"],
    )
    assert (profile.marketplace_id, profile.country_code) == (
        marketplace.id,
        marketplace.country_code,
    )


def test_an_unknown_consent_host_is_not_found(client: AmazonClient) -> None:
    url = client.consent_url("na", STATE).replace(
        "sellercentral.amazon.com", "sellercentral.example"
    )
    assert browser.get(url).status_code == 404
