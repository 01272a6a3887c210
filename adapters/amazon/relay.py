"""The proxy's way to Amazon: one pooled client that sends a backend's call on to
Amazon's regional host and hands back Amazon's answer unread, to be streamed to the caller.

What may cross and what is added are the proxy's rules (service.credentials.proxy); this
module only carries the bytes. Redirects are not followed (an answer goes back as Amazon
gave it), no cookie is kept between calls (aiohttp's `DummyCookieJar`), and nothing is
decoded (`auto_decompress=False`: Amazon's bytes and Content-Encoding pass on as they are).

The client is aiohttp's: HTTP/1.1 keep-alive connections pooled per host, and an answer's
body read chunk by chunk from the connection's buffer, without a task per chunk. Measured
(`python -m bench.relay_clients`, CPU per streamed call on one keep-alive connection):
httpx 717 µs, httpcore's pool directly 436 µs, aiohttp 121 µs. The URL goes out as given
(`encoded=True`): the proxy checked it already, and nothing re-quotes it on the way.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

KEEPALIVE_SECONDS = 5.0  # an idle connection to Amazon is closed after this (as httpx did)
POOL_SIZE = 100  # connections at most, all hosts together (as httpx did)


class Unreachable(Exception):
    """Amazon's host could not be reached, or did not answer within the timeout."""

    def __init__(self, timed_out: bool, detail: str) -> None:
        super().__init__(detail)
        self.timed_out = timed_out


class Answer:
    """Amazon's answer: its status and headers once they are in, the body still to read
    (`aiter_raw`) or already read (`content`, for the proxy's own small calls); `aclose`
    gives the connection back to the pool (or drops it when the body was not read whole)."""

    def __init__(self, response: aiohttp.ClientResponse, content: bytes | None = None) -> None:
        self._response = response
        self.status_code = response.status
        self.headers: CIMultiDictProxy[str] = response.headers
        self.content = content if content is not None else b""
        self.is_stream_consumed = content is not None

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        """The body as it arrives, undecoded; a transfer-coding (chunked) is undone."""
        stream = self._response.content
        try:
            while True:
                chunk = await stream.readany()
                if not chunk:
                    return
                yield chunk
        except (TimeoutError, aiohttp.ClientError) as e:
            raise Unreachable(isinstance(e, TimeoutError), type(e).__name__) from None

    async def read(self) -> bytes:
        """The whole body, undecoded (a small answer, announced by its Content-Length)."""
        try:
            return await self._response.read()
        except (TimeoutError, aiohttp.ClientError) as e:
            raise Unreachable(isinstance(e, TimeoutError), type(e).__name__) from None

    def json(self) -> Any:
        return json.loads(self.content)

    async def aclose(self) -> None:
        self._response.release()


class Relay:
    def __init__(self, timeout: float) -> None:
        # The timeout bounds the connect and each wait for bytes, as httpx's did; not the
        # whole answer, which may be long and streamed.
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=timeout, sock_connect=timeout, sock_read=timeout
        )
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        # Made on the first call, on the loop that serves it.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=POOL_SIZE, keepalive_timeout=KEEPALIVE_SECONDS
                ),
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                timeout=self._timeout,
                # Only what the proxy was given is sent (plus Host, and Content-Length or
                # Transfer-Encoding for a body, which HTTP/1.1 needs): no Accept,
                # Accept-Encoding, User-Agent or Content-Type of aiohttp's own.
                skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),
                trust_env=False,
            )
        return self._session

    async def send(
        self, method: str, url: str, headers: dict[str, str], content: Any = None
    ) -> Answer:
        """Sends the call and returns once Amazon's headers are in; the body is the
        caller's to read (or close)."""
        return Answer(await self._request(method, url, headers, content))

    async def post_json(self, url: str, body: Any, headers: dict[str, str]) -> Answer:
        """A small call of the proxy's own (a Restricted Data Token), read whole."""
        data = json.dumps(body).encode()
        sent = {**headers, "content-type": "application/json"}
        return await self._whole("POST", url, sent, data)

    async def get(self, url: str, headers: dict[str, str]) -> Answer:
        """A small call of the proxy's own (the revocation probe), read whole."""
        return await self._whole("GET", url, headers, None)

    async def _whole(self, method: str, url: str, headers: dict[str, str], data: Any) -> Answer:
        response = await self._request(method, url, headers, data)
        try:
            content = await response.read()
        except (TimeoutError, aiohttp.ClientError) as e:
            raise Unreachable(isinstance(e, TimeoutError), type(e).__name__) from None
        finally:
            response.release()
        return Answer(response, content)

    async def _request(
        self, method: str, url: str, headers: dict[str, str], data: Any
    ) -> aiohttp.ClientResponse:
        try:
            return await self._http().request(
                method,
                URL(url, encoded=True),
                headers=headers,
                data=data,
                allow_redirects=False,
                compress=None,
            )
        except TimeoutError as e:
            raise Unreachable(True, type(e).__name__) from None
        except aiohttp.ClientError as e:
            raise Unreachable(isinstance(e, aiohttp.ServerTimeoutError), type(e).__name__) from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def same_origin(url: str, base: str) -> bool:
    """Whether `url` is on `base`'s scheme, host and port, as the relay's client reads them
    (yarl, with the URL taken as given, as `Relay` sends it)."""
    parsed, origin = URL(url, encoded=True), _origin(base)
    return (parsed.scheme, parsed.host, parsed.port) == origin


@functools.lru_cache(maxsize=64)  # a handful of regional hosts
def _origin(base: str) -> tuple[str, str | None, int | None]:
    parsed = URL(base, encoded=True)
    return parsed.scheme, parsed.host, parsed.port
