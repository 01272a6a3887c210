"""The Amazon gateway: SP-API and Ads consents, LWA tokens, account and Ads checks."""

from adapters.amazon.client import AdvertisingProfile, AmazonClient, Tokens
from adapters.amazon.errors import AmazonError
from adapters.amazon.settings import REGIONS, AmazonSettings

__all__ = [
    "REGIONS",
    "AdvertisingProfile",
    "AmazonClient",
    "AmazonError",
    "AmazonSettings",
    "Tokens",
]
