"""Every marketplace's consent URL, for a seller and for a vendor, as the real adapter builds
it, against Amazon's tables copied into tests/amazon/fixtures/consent_hosts.py."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.amazon import AmazonClient, AmazonSettings
from tests.amazon.fixtures.consent_hosts import AMAZON_CONSENT_HOSTS

SETTINGS = AmazonSettings.production(
    application_id="amzn1.sp.solution.app",
    lwa_client_id="amzn1.application-oa2-client.id",
    lwa_client_secret="secret",
    redirect_uri="https://svc.example/v1/oauth/amazon/callback",
)
CASES = [
    (marketplace_id, account_type, hosts[2] if account_type == "seller" else hosts[3], hosts[1])
    for marketplace_id, hosts in AMAZON_CONSENT_HOSTS.items()
    for account_type in ("seller", "vendor")
]


@pytest.mark.parametrize(
    ("marketplace_id", "account_type", "host", "region"),
    CASES,
    ids=[f"{AMAZON_CONSENT_HOSTS[m][0]}-{a}" for m, a, _, _ in CASES],
)
def test_consent_opens_the_marketplaces_own_seller_or_vendor_central(
    marketplace_id: str, account_type: str, host: str, region: str
) -> None:
    url = AmazonClient(SETTINGS).consent_url(
        region, "con_1.state", marketplace_id=marketplace_id, account_type=account_type
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", host, "/apps/authorize/consent")
    assert parse_qs(parts.query)["application_id"] == ["amzn1.sp.solution.app"]
