"""Amazon's marketplaces: one table (`marketplaces.csv`, beside this module) that the
validation, the Amazon adapter and the sandbox all read.

Sources (Amazon's own):
- ids, country codes, regions: "Marketplace IDs" (developer-docs.amazon.com/sp-api/docs/
  marketplace-ids) and "SP-API Endpoints" (.../docs/sp-api-endpoints), which list Ireland,
  Belgium, South Africa and Saudi Arabia in the EU region beside the older guide's list
  (amzn/selling-partner-api-docs, guides/en-US/developer-guide/
  SellingPartnerApiDeveloperGuide.md at c2888de, "marketplaceId values").
- consent hosts: that guide's "Seller Central URLs" and "Vendor Central URLs" tables and
  their successors on developer-docs.amazon.com (seller-central-urls, vendor-central-urls):
  "if a seller has a Seller Central account for Mexico, they will need an OAuth
  authorization URI for Mexico" (guide, "Constructing an OAuth authorization URI").
- currency, language, domain: what getMarketplaceParticipations reports for the
  marketplace (`defaultCurrencyCode`, `defaultLanguageCode`, `domainName`; sellers.json in
  amzn/selling-partner-api-models). The UK's country code is GB there (ISO 3166-1), though
  the id table writes UK.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

SP_API_REGIONS: tuple[str, ...] = ("na", "eu", "fe")
COLUMNS: tuple[str, ...] = (
    "id",
    "region",
    "country_code",
    "country",
    "currency",
    "language",
    "domain",
    "seller_central",
    "vendor_central",
)


@dataclass(frozen=True, slots=True)
class Marketplace:
    id: str
    region: str
    country_code: str
    country: str
    currency: str
    language: str
    domain: str
    seller_central: str  # host of the Seller Central consent page
    vendor_central: str  # host of the Vendor Central consent page

    def consent_host(self, account_type: str = "seller") -> str:
        """Where this marketplace's sellers (or vendors) consent."""
        return self.vendor_central if account_type == "vendor" else self.seller_central

    @property
    def name(self) -> str:
        """The marketplace's name as Amazon shows it, e.g. "Amazon.co.uk"."""
        return "Amazon" + self.domain.removeprefix("www.amazon")


def _load() -> tuple[Marketplace, ...]:
    with resources.files(__package__).joinpath("marketplaces.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return tuple(Marketplace(**row) for row in rows)


ALL: tuple[Marketplace, ...] = _load()
BY_ID: dict[str, Marketplace] = {m.id: m for m in ALL}
# region -> {marketplace id: country}: what `region` and `marketplace_ids` may say.
REGIONS: dict[str, dict[str, str]] = {
    region: {m.id: m.country for m in ALL if m.region == region} for region in SP_API_REGIONS
}


def in_region(region: str) -> tuple[Marketplace, ...]:
    return tuple(m for m in ALL if m.region == region)


def consent_host(marketplace_id: str, account_type: str = "seller") -> str | None:
    """The Seller (or Vendor) Central host of a marketplace; None for an unknown id."""
    marketplace = BY_ID.get(marketplace_id)
    return None if marketplace is None else marketplace.consent_host(account_type)
