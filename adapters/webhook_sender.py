"""Sends one webhook over HTTP: Standard Webhooks headers and signatures, and the SSRF guard.

The guard resolves the host itself and the request then goes to the address it checked
(the original name still in `Host` and in TLS SNI), so a DNS answer that changes between
the check and the connection cannot point a delivery at an internal address. Redirects
are not followed: a receiver cannot bounce a delivery onto another host either.
"""

from __future__ import annotations

import base64
import secrets
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

from adapters.http_clients import sync_client
from adapters.retry_after import retry_after_seconds
from adapters.special_addresses import why_refused

USER_AGENT = "marketplace-connections-webhooks/1"


class UnsafeUrl(ValueError):
    """A URL webhooks may not be sent to; the message says why, for the API caller."""


def new_secret() -> str:
    # Standard Webhooks: 24 to 64 random bytes, base64, with the `whsec_` prefix.
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def resolve(url: str, *, allow_private: bool) -> tuple[httpx.URL, str]:
    """The parsed URL and the address to connect to. Raises UnsafeUrl when the URL is not
    http(s), has no host, does not resolve, or resolves to any non-public address
    (IANA's special-purpose ranges, see adapters.special_addresses) and `allow_private`
    is off."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise UnsafeUrl("url is not a valid URL") from None
    if parsed.scheme not in ("http", "https"):
        raise UnsafeUrl("url must use http or https")
    if not parsed.host:
        raise UnsafeUrl("url must name a host")
    host = parsed.raw_host.decode("ascii")
    try:
        infos = socket.getaddrinfo(
            host, parsed.port or (443 if parsed.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except (socket.gaierror, UnicodeError):
        raise UnsafeUrl(f"url host {parsed.host!r} does not resolve") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not allow_private:
        for address in addresses:
            if (reason := why_refused(address)) is not None:
                raise UnsafeUrl(
                    f"url host {parsed.host!r} resolves to a private, loopback or "
                    f"link-local address ({address}: {reason})"
                )
    return parsed, addresses[0]


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    latency_ms: int
    body: str | None
    error: str | None
    retry_after: float | None = None


class WebhookSender:
    def __init__(
        self,
        *,
        allow_private: bool,
        timeout: float = 15.0,
        body_limit: int = 1024,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.allow_private = allow_private
        self.body_limit = body_limit
        # trust_env off: a proxy from the environment would bypass the address check.
        self._client = sync_client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=False,
            verify=verify,
            headers={"User-Agent": USER_AGENT},
        )

    def check(self, url: str) -> None:
        resolve(url, allow_private=self.allow_private)

    def send(self, url: str, message_id: str, body: str, signing_secrets: list[str]) -> SendResult:
        started = time.monotonic()
        try:
            parsed, address = resolve(url, allow_private=self.allow_private)
        except UnsafeUrl as e:
            return SendResult(None, 0, None, f"refused: {e}")
        # The signature timestamp is wall time: receivers check it against their own clocks.
        now = datetime.now(UTC)
        signature = " ".join(Webhook(s).sign(message_id, now, body) for s in signing_secrets)
        headers = {
            "Host": parsed.netloc.decode("ascii"),
            "Content-Type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        }
        pinned = parsed.copy_with(host=address)
        extensions = {"sni_hostname": parsed.raw_host.decode("ascii")}
        try:
            with self._client.stream(
                "POST", pinned, content=body.encode(), headers=headers, extensions=extensions
            ) as response:
                excerpt = self._excerpt(response)
                retry_after = None
                if response.status_code in (429, 503):
                    retry_after = retry_after_seconds(response.headers.get("retry-after"), now)
                return SendResult(
                    response.status_code, _ms_since(started), excerpt, None, retry_after
                )
        except httpx.TimeoutException:
            return SendResult(None, _ms_since(started), None, "timed out")
        except httpx.HTTPError as e:
            return SendResult(
                None, _ms_since(started), None, f"{type(e).__name__}: {e}"[: self.body_limit]
            )

    def _excerpt(self, response: httpx.Response) -> str:
        """The start of the response body: enough to debug, never a large download."""
        received = b""
        for chunk in response.iter_bytes():
            received += chunk
            if len(received) >= self.body_limit:
                break
        return received[: self.body_limit].decode("utf-8", errors="replace")

    def close(self) -> None:
        self._client.close()


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
