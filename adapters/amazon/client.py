"""AmazonClient: the one gateway to Amazon, for production and the sandbox alike.

A facade over the modules that each speak one part of the protocol: `consent` (browser
redirects), `lwa` (token endpoint), `sellers` (SP-API account checks) and `ads` (Ads API
profiles). Every failure is an `AmazonError` carrying a catalogue code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

import httpx

from adapters.amazon import ads, consent, lwa, sellers
from adapters.amazon.ads import AdvertisingProfile
from adapters.amazon.credentials import AppCredentials
from adapters.amazon.errors import AmazonError
from adapters.amazon.lwa import Tokens
from adapters.amazon.settings import AmazonSettings
from adapters.amazon.throttle import RateLimits
from adapters.http_clients import sync_client

__all__ = ["AdvertisingProfile", "AmazonClient", "Tokens"]


class AmazonClient:
    def __init__(self, settings: AmazonSettings, http: httpx.Client | None = None) -> None:
        self.settings = settings
        self._owns_http = http is None
        self._http = http if http is not None else sync_client(timeout=settings.timeout)
        self.limits = RateLimits()
        self.credentials = AppCredentials(settings.lwa_client_secret_expires_at)

    def __repr__(self) -> str:
        return f"AmazonClient(application_id={self.settings.application_id!r})"

    # SP-API authorization

    def consent_url(
        self,
        region: str,
        state: str,
        *,
        marketplace_id: str | None = None,
        account_type: str = "seller",
    ) -> str:
        """Consent on the first marketplace's Seller Central (Vendor Central for vendors)."""
        return consent.sp_consent_url(
            self.settings, region, state, marketplace_id=marketplace_id, account_type=account_type
        )

    def callback_error_code(self, error: str, description: str | None) -> str:
        return consent.callback_error_code(error, description)

    def _watch(self, client: str, operation: str, call: Callable[[], Tokens]) -> Tokens:
        """Notes whether LWA accepted the app's own credentials (see `credentials`)."""
        try:
            tokens = call()
        except AmazonError as e:
            if e.code == "APP_CREDENTIALS_INVALID":
                self.credentials.refused(client, operation, e.detail)
            raise
        self.credentials.accepted(client)
        return tokens

    def exchange_code(self, code: str) -> Tokens:
        return self._watch("SP-API", "code exchange", lambda: self._exchange_code(code))

    def _exchange_code(self, code: str) -> Tokens:
        return lwa.exchange_code(
            self._http,
            self.settings,
            code,
            credentials=(self.settings.lwa_client_id, self.settings.lwa_client_secret),
            redirect_uri=self.settings.redirect_uri,
            older_secrets=self.settings.lwa_older_client_secrets,
        )

    def refresh(self, refresh_token: str) -> Tokens:
        return self._watch("SP-API", "refresh", lambda: self._refresh(refresh_token))

    def _refresh(self, refresh_token: str) -> Tokens:
        return lwa.refresh(
            self._http,
            self.settings,
            refresh_token,
            credentials=(self.settings.lwa_client_id, self.settings.lwa_client_secret),
            older_secrets=self.settings.lwa_older_client_secrets,
        )

    def check_account(
        self,
        access_token: str,
        region: str,
        marketplace_ids: list[str],
        selling_partner_id: str | None = None,
    ) -> list[tuple[str, str]]:
        """Raises the first refusal; returns warnings as (catalogue code, detail)."""
        return sellers.check_account(
            self._http,
            self.settings,
            access_token,
            region,
            marketplace_ids,
            limits=self.limits,
            seller=selling_partner_id,
        )

    # Amazon Ads authorization

    def ads_consent_url(self, region: str, state: str) -> str:
        return consent.ads_consent_url(self.settings, region, state)

    # The Ads API's own LWA client (ADS_CLIENT_ID/ADS_CLIENT_SECRET) and the token host of
    # the advertiser's region; `region=None` is the North America host.

    def exchange_ads_code(self, code: str, region: str | None = None) -> Tokens:
        return self._watch(
            "Ads", "Ads code exchange", lambda: self._exchange_ads_code(code, region)
        )

    def _exchange_ads_code(self, code: str, region: str | None) -> Tokens:
        return lwa.exchange_code(
            self._http,
            self.settings,
            code,
            credentials=self.settings.ads_credentials,
            redirect_uri=self.settings.ads_redirect_uri,
            older_secrets=self.settings.ads_older_client_secrets,
            token_url=self.settings.ads_token_url(region),
        )

    def refresh_ads(self, refresh_token: str, region: str | None = None) -> Tokens:
        return self._watch(
            "Ads",
            "Ads refresh",
            lambda: lwa.refresh(
                self._http,
                self.settings,
                refresh_token,
                credentials=self.settings.ads_credentials,
                older_secrets=self.settings.ads_older_client_secrets,
                token_url=self.settings.ads_token_url(region),
            ),
        )

    def check_advertising(
        self,
        access_token: str,
        region: str,
        marketplace_ids: list[str],
        selling_partner_id: str,
    ) -> list[AdvertisingProfile]:
        return ads.check_advertising(
            self._http,
            self.settings,
            access_token,
            region,
            marketplace_ids,
            selling_partner_id,
            limits=self.limits,
        )

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
