"""The sandbox's own HTML pages and the redirects back to the service."""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from litestar import Request, Response
from litestar.response import Redirect

from adapters.amazon.settings import REGIONS
from domain import marketplaces
from service.sandbox.issued import is_id
from service.sandbox.outcomes import SANDBOX_OUTCOMES


def page(title: str, body: str, status: int = 200) -> Response[str]:
    document = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title><style>body{{font:16px system-ui,sans-serif;"
        "max-width:44rem;margin:2rem auto;padding:0 1rem}li{margin:.4rem 0}"
        "a{font-weight:600}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return Response(document, status_code=status, media_type="text/html")


def picker(request: Request, title: str, outcomes: tuple[str, ...]) -> Response[str]:
    query = dict(request.query_params)
    items = "".join(
        f'<li><a href="?{html.escape(urlencode({**query, "sandbox_outcome": outcome}))}">'
        f"{html.escape(outcome)}</a> — {html.escape(SANDBOX_OUTCOMES[outcome])}</li>"
        for outcome in outcomes
    )
    intro = "<p>This is the sandbox Amazon. Pick what the account owner meets:</p>"
    return page(title, f"{intro}<ul>{items}</ul>")


def redirect(target: str, params: dict[str, str]) -> Redirect:
    scheme, netloc, path, query, fragment = urlsplit(target)
    merged = urlencode([*parse_qsl(query), *params.items()])
    return Redirect(path=urlunsplit((scheme, netloc, path, merged, fragment)), status_code=302)


@dataclass(frozen=True)
class Central:
    """Which Seller or Vendor Central a consent URL opened."""

    region: str
    account_type: str  # seller | vendor
    host: str


def central_of(where: str) -> Central | None:
    """A consent host of the marketplace table, or (as before) a bare region."""
    if where in REGIONS:
        return Central(where, "seller", where)
    for m in marketplaces.ALL:
        if where == m.seller_central:
            return Central(m.region, "seller", where)
        if where == m.vendor_central:
            return Central(m.region, "vendor", where)
    return None


def consent_problem(
    region: str,
    outcome: str | None,
    allowed: tuple[str, ...],
    partner: str | None,
    redirect_uri: str,
) -> Response[str] | None:
    if region not in REGIONS:
        return page(
            "Unknown Seller Central",
            f"<p>{html.escape(region)}: no Seller or Vendor Central of Amazon's.</p>",
            404,
        )
    if outcome is not None and outcome not in allowed:
        choices = html.escape(", ".join(allowed))
        return page("Unknown sandbox outcome", f"<p>Choose one of {choices}.</p>", 400)
    if partner is not None and not is_id(partner):
        return page("Bad selling partner id", "<p>Use letters and digits only.</p>", 400)
    if urlsplit(redirect_uri).scheme not in ("http", "https"):
        return page("Bad redirect URI", "<p>The redirect URI must be http(s).</p>", 400)
    return None


def unregistered(target: str, registered: str) -> Response[str] | None:
    """Like Amazon, redirect only to the URI registered for the app (no open redirect)."""
    if target != registered:
        return page(
            "Redirect URI not registered",
            "<p>The redirect_uri does not match the application's registered one.</p>",
            400,
        )
    return None
