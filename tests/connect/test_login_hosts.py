"""The Login URI continues to Amazon's own hosts only: every marketplace's Seller Central and
Vendor Central host (domain/marketplaces.csv, checked against Amazon's tables in
tests/amazon), and nothing that merely looks like one."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from domain.marketplaces import ALL as MARKETPLACES
from service.connect.login import callback_allowed

REAL_AMAZON = SimpleNamespace(sandbox=False)
HOSTS = sorted({m.seller_central for m in MARKETPLACES} | {m.vendor_central for m in MARKETPLACES})


@pytest.mark.parametrize("host", HOSTS)
def test_every_marketplaces_consent_host_is_a_place_to_continue(host):
    assert callback_allowed(f"https://{host}/apps/authorize/confirm", REAL_AMAZON)


@pytest.mark.parametrize(
    "url",
    [
        "https://vendorcentral.amazon.in.evil.example/apps/authorize/confirm",
        "https://www.vendorcentral.in/apps/authorize/confirm",
        "http://sellercentral.amazon.com/apps/authorize/confirm",
        "https://sellercentral.amazon.com:8443/apps/authorize/confirm",
        "https://sellercentral.amazon.com\uff0fapps/authorize/confirm",
    ],
)
def test_a_host_that_only_looks_like_amazons_is_refused(url):
    assert not callback_allowed(url, REAL_AMAZON)
