"""Where Amazon lives and who we are to it: base URLs per region and the app's credentials.

Production and the sandbox differ only here; the client code is the same for both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

REGIONS: tuple[str, ...] = ("na", "eu", "fe")

# Fixed credentials of the sandbox app; the sandbox Amazon accepts exactly these.
SANDBOX_APPLICATION_ID = "amzn1.sp.solution.00000000-0000-4000-8000-00000000sbx0"
SANDBOX_LWA_CLIENT_ID = "amzn1.application-oa2-client.sandbox0000000000000000000000"
SANDBOX_LWA_CLIENT_SECRET = "amzn1.oa2-cs.v1.sandbox-secret-not-for-production"

_SP_API = {region: f"https://sellingpartnerapi-{region}.amazon.com" for region in REGIONS}
_ADS_CONSENT = {
    "na": "https://www.amazon.com/ap/oa",
    "eu": "https://eu.account.amazon.com/ap/oa",
    "fe": "https://apac.account.amazon.com/ap/oa",
}
# Amazon Ads: the LWA token host of the advertiser's region ("Retrieve access and refresh
# tokens", advertising.amazon.com/API/docs/en-us/guides/get-started/retrieve-access-token):
# an authorization code granted on the EU or FE consent page is exchanged there.
_ADS_TOKEN = {
    "na": "https://api.amazon.com/auth/o2/token",
    "eu": "https://api.amazon.co.uk/auth/o2/token",
    "fe": "https://api.amazon.co.jp/auth/o2/token",
}
_ADS_API = {
    "na": "https://advertising-api.amazon.com",
    "eu": "https://advertising-api-eu.amazon.com",
    "fe": "https://advertising-api-fe.amazon.com",
}


@dataclass(frozen=True)
class AmazonSettings:
    application_id: str
    lwa_client_id: str
    lwa_client_secret: str = field(repr=False)
    redirect_uri: str | None
    ads_redirect_uri: str | None
    draft: bool
    # The consent page of a Seller or Vendor Central host is at `{consent_root}{host}`:
    # "https://" for Amazon, the sandbox's own prefix in sandbox mode (see domain.marketplaces).
    consent_root: str
    lwa_token_url: str
    sp_api_urls: dict[str, str]
    ads_consent_urls: dict[str, str]
    ads_api_urls: dict[str, str]
    timeout: float = 10.0
    max_retries: int = 3
    backoff: float = 0.5
    max_retry_after: float = 10.0
    # The Ads API is reached through an LWA security profile approved for it, which is
    # usually not the SP-API app's own LWA client; None means "the same as lwa_client_*".
    ads_client_id: str | None = None
    ads_client_secret: str | None = field(default=None, repr=False)
    # The Ads LWA token endpoint per region; empty means `lwa_token_url` everywhere.
    ads_token_urls: dict[str, str] = field(default_factory=dict)
    # Amazon asks for the LWA client secret to be rotated every 180 days ("Rotate your LWA
    # client secret", developer-docs.amazon.com/sp-api/docs/rotating-your-apps-lwa-credentials).
    # During the overlap the old secret still works: it is tried when LWA refuses the new one
    # with invalid_client, so either order of activation on Amazon's side is safe.
    lwa_older_client_secrets: tuple[str, ...] = field(default=(), repr=False)
    lwa_client_secret_expires_at: datetime | None = None

    @property
    def ads_credentials(self) -> tuple[str, str]:
        return (
            self.ads_client_id or self.lwa_client_id,
            self.ads_client_secret or self.lwa_client_secret,
        )

    @property
    def ads_older_client_secrets(self) -> tuple[str, ...]:
        """An Ads client of its own has no SP-API secrets to fall back to."""
        return () if self.ads_client_secret else self.lwa_older_client_secrets

    def ads_token_url(self, region: str | None) -> str:
        return self.ads_token_urls.get(region or "", self.lwa_token_url)

    @classmethod
    def production(
        cls,
        *,
        application_id: str,
        lwa_client_id: str,
        lwa_client_secret: str,
        redirect_uri: str | None = None,
        ads_redirect_uri: str | None = None,
        draft: bool = False,
        ads_client_id: str | None = None,
        ads_client_secret: str | None = None,
        lwa_older_client_secrets: tuple[str, ...] = (),
        lwa_client_secret_expires_at: datetime | None = None,
    ) -> AmazonSettings:
        return cls(
            application_id=application_id,
            lwa_client_id=lwa_client_id,
            lwa_client_secret=lwa_client_secret,
            redirect_uri=redirect_uri,
            ads_redirect_uri=ads_redirect_uri,
            draft=draft,
            consent_root="https://",
            lwa_token_url="https://api.amazon.com/auth/o2/token",
            sp_api_urls=dict(_SP_API),
            ads_consent_urls=dict(_ADS_CONSENT),
            ads_api_urls=dict(_ADS_API),
            ads_client_id=ads_client_id,
            ads_client_secret=ads_client_secret,
            ads_token_urls=dict(_ADS_TOKEN),
            lwa_older_client_secrets=lwa_older_client_secrets,
            lwa_client_secret_expires_at=lwa_client_secret_expires_at,
        )

    @classmethod
    def sandbox(
        cls,
        base_url: str,
        *,
        redirect_uri: str | None = None,
        ads_redirect_uri: str | None = None,
    ) -> AmazonSettings:
        root = f"{base_url.rstrip('/')}/sandbox/amazon"
        return cls(
            application_id=SANDBOX_APPLICATION_ID,
            lwa_client_id=SANDBOX_LWA_CLIENT_ID,
            lwa_client_secret=SANDBOX_LWA_CLIENT_SECRET,
            redirect_uri=redirect_uri,
            ads_redirect_uri=ads_redirect_uri,
            draft=False,
            consent_root=f"{root}/",
            lwa_token_url=f"{root}/auth/o2/token",
            sp_api_urls={region: f"{root}/{region}" for region in REGIONS},
            ads_consent_urls={region: f"{root}/ads/{region}/ap/oa" for region in REGIONS},
            ads_api_urls={region: f"{root}/ads/{region}" for region in REGIONS},
            ads_token_urls={region: f"{root}/ads/{region}/auth/o2/token" for region in REGIONS},
            timeout=5.0,
            backoff=0.01,
            max_retry_after=0.1,
        )
