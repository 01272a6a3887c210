"""The sandbox Amazon: Seller Central's consent, LWA, the Sellers API and the Ads API, served
by the service itself so the real `AmazonClient` runs against it (SANDBOX=1).

One module per Amazon API (`consent`, `lwa`, `sellers`, `ads`); `router` assembles them.

Stateless: the outcome a person (or a script, with `&sandbox_outcome=`) picks on the
consent page travels inside what Amazon would issue next, e.g. the code
`sbx.ACCOUNT_IN_STAGING.<selling partner id>.<random>`, then `Atzr|sbx.…` and `Atza|sbx.…`,
so each later endpoint answers as Amazon would for such an account (see `issued`).
"""

from service.sandbox.router import build_sandbox_router

__all__ = ["build_sandbox_router"]
