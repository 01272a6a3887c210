"""Client for the marketplace connection service.

`marketplace_connections.generated` is made by openapi-python-client from openapi.yaml
(`make sdk`); the rest is this package's own thin layer on it."""

from importlib.metadata import PackageNotFoundError, version

from .client import Client
from .generated import api, models
from .problems import ApiError, ProblemError
from .retries import RetryTransport
from .webhooks import WebhookEvent, WebhookVerificationError, verify_webhook

try:
    __version__ = version("marketplace-connections-client")
except PackageNotFoundError:  # pragma: no cover - run from a checkout
    __version__ = "0+unknown"

__all__ = [
    "ApiError",
    "Client",
    "ProblemError",
    "RetryTransport",
    "WebhookEvent",
    "WebhookVerificationError",
    "__version__",
    "api",
    "models",
    "verify_webhook",
]
