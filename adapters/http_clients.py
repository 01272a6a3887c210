"""The HTTP clients of the service's calls out (Amazon, the proxy, webhook deliveries):
each is built here, and none keeps cookies.

An httpx client keeps a cookie jar by default and sends what it stored on every later call
to that host: a Set-Cookie in Amazon's answer to one tenant's call would go back to Amazon
on another tenant's. These clients' jar stores nothing, so every call carries only the
headers it was given.
"""

from __future__ import annotations

from http.cookiejar import Cookie, CookieJar
from typing import Any

import httpx


class NeverStored(CookieJar):
    """A cookie jar that stays empty: a Set-Cookie is read and dropped."""

    def set_cookie(self, cookie: Cookie) -> None:
        pass


def sync_client(**options: Any) -> httpx.Client:
    return httpx.Client(cookies=NeverStored(), **options)


def async_client(**options: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(cookies=NeverStored(), **options)
