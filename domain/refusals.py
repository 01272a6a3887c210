"""What Amazon's refusal of a token refresh does to a connection (SPEC §2, §9): one rule,
for the token path (a caller's refresh) and the worker's daily refresh check alike.

- `ACCESS_REVOKED` (LWA's `invalid_grant`): the owner or Amazon took the access away. An
  active connection is marked `reauth_due` (SPEC §2: `mark_reauth_due` moves from `active`
  only); any other authorized state (`api_authorized` to `reauth_due`: tokens are usable
  there, SPEC §9) records the same code as its warning, which also marks the access
  revoked. Once: a connection whose access is already marked revoked records nothing. For
  the Ads API, the Advertising track fails instead.
- `AMAZON_UNAVAILABLE`: a warning, once per outage, on an authorized connection; its state
  is untouched. Who keeps track of outages says when one began (the worker's refresh
  checks do); otherwise an outage is news until the connection carries its warning.
- Anything else (the app's own credentials refused, a malformed answer) is the
  operators' concern, not the seller's: nothing is recorded on the connection.
"""

from __future__ import annotations

from typing import Any

from domain import lifecycle as lc
from domain.access import ADS, AUTHORIZED_STATES

REVOKED, UNAVAILABLE = "ACCESS_REVOKED", "AMAZON_UNAVAILABLE"


def consequence(c: Any, api: str, code: str, outage_began: bool | None = None) -> str | None:
    """The command (called with the context, `code` and Amazon's detail) that a refused
    refresh of `api` records on `c`; None when it records nothing."""
    if code == REVOKED:
        if api == ADS:
            return "fail_advertising_authorization" if c.advertising == "connected" else None
        if c.access_revoked_at is not None or c.state not in AUTHORIZED_STATES:
            return None
        return "mark_reauth_due" if c.state == lc.ACTIVE else "record_warning"
    if code == UNAVAILABLE:
        if c.state not in AUTHORIZED_STATES:
            return None
        if outage_began is None:
            outage_began = c.warning is None or c.warning["code"] != code
        return "record_warning" if outage_began else None
    return None
