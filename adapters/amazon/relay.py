"""The proxy's way to Amazon: one pooled client that sends a backend's call on to
Amazon's regional host and hands back Amazon's answer unread, to be streamed to the caller.

What may cross and what is added are the proxy's rules (service.credentials.proxy); this
module only carries the bytes. Redirects are not followed (an answer goes back as Amazon
gave it) and no cookie is kept between calls (adapters.http_clients).
"""

from __future__ import annotations

from typing import Any

import httpx

from adapters.http_clients import async_client

Answer = httpx.Response  # status_code, headers, aiter_raw(), aclose(): streamed unread


class Unreachable(Exception):
    """Amazon's host could not be reached, or did not answer within the timeout."""

    def __init__(self, timed_out: bool, detail: str) -> None:
        super().__init__(detail)
        self.timed_out = timed_out


class Relay:
    def __init__(self, timeout: float) -> None:
        self._http = async_client(timeout=timeout, follow_redirects=False)

    async def send(
        self, method: str, url: str, headers: dict[str, str], content: Any = None
    ) -> Answer:
        """Sends the call and returns once Amazon's headers are in; the body is the
        caller's to read (or close)."""
        request = self._http.build_request(method, url, headers=headers, content=content)
        return await self._unless_unreachable(self._http.send(request, stream=True))

    async def post_json(self, url: str, body: Any, headers: dict[str, str]) -> Answer:
        """A small call of the proxy's own (a Restricted Data Token), read whole."""
        return await self._unless_unreachable(self._http.post(url, json=body, headers=headers))

    async def get(self, url: str, headers: dict[str, str]) -> Answer:
        """A small call of the proxy's own (the revocation probe), read whole."""
        return await self._unless_unreachable(self._http.get(url, headers=headers))

    @staticmethod
    async def _unless_unreachable(call: Any) -> Answer:
        try:
            return await call
        except httpx.TimeoutException as e:
            raise Unreachable(True, type(e).__name__) from None
        except httpx.TransportError as e:
            raise Unreachable(False, type(e).__name__) from None

    async def aclose(self) -> None:
        await self._http.aclose()


def same_origin(url: str, base: str) -> bool:
    """Whether `url` is on `base`'s scheme, host and port, as an HTTP client reads them."""
    parsed, origin = httpx.URL(url), httpx.URL(base)
    return (parsed.scheme, parsed.host, parsed.port) == (origin.scheme, origin.host, origin.port)
