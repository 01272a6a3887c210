"""Where a connection's `return_url` may send the owner's browser back to: an origin the
tenant registered. One rule for the API (creating a connection) and the CLI (registering
an origin), so the two can never read a URL differently."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from domain.exceptions import ValidationFailed


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an http(s) URL, lower-case, without a default port. None
    for a URL a browser might read differently from us: with user info or a backslash
    (`https://evil.example\\@app.example/` takes a browser to evil.example)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc or "\\" in url:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def bare_origin(raw: str) -> str | None:
    """The origin `raw` names when it is an origin and nothing more (no path beyond `/`,
    no query, no fragment); None otherwise."""
    origin = origin_of(raw)
    parts = urlsplit(raw)
    if origin is None or parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    return origin


def check_return_url(return_url: str, allowed: Sequence[str]) -> None:
    """The owner's browser is sent back only to an origin the tenant registered, so a
    connection cannot turn the service into an open redirect."""
    origin = origin_of(return_url)
    if origin is not None and origin in allowed:
        return
    if not allowed:
        raise ValidationFailed(
            "return_url: this tenant has registered no origin to return to; an operator "
            "registers one with `connections tenants allow-origin`.",
            field="return_url",
            allowed_origins=[],
        )
    raise ValidationFailed(
        f"return_url: its origin {origin or 'cannot be read'} is not registered for this "
        f"tenant; allowed origins: {', '.join(allowed)}.",
        field="return_url",
        allowed_origins=list(allowed),
    )
