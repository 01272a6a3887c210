"""The owner's session (SPEC §12): the proof, kept by a browser, that it opened a
connection's invitation link (or a continue link mailed to the owner address on file).

Amazon's Login URI continues only for a browser holding such a session for a connection
that holds the seller. The cookie names no connection: it carries, per connection, a tag
(an HMAC of the connection id under a key derived from SECRET_KEY), an expiry, and a
signature over both. HttpOnly and SameSite=Lax, so Amazon's top-level redirect to the Login
URI carries it and no script or other site's POST does; Secure on an https deployment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from adapters.crypto import Signer

COOKIE = "owner_session"
LIFETIME = timedelta(days=30)
_KEPT = 8  # connections one browser may hold a session for, the latest first


class OwnerSessions:
    def __init__(self, key: bytes, public_base_url: str) -> None:
        self._key = key
        self._signer = Signer(hmac.new(key, b"cookie", hashlib.sha256).hexdigest())
        self.secure = public_base_url.startswith("https://")

    def tag(self, connection_id: UUID | str) -> str:
        raw = UUID(str(connection_id)).bytes
        mac = hmac.new(self._key, b"owner:" + raw, hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(mac).decode()

    def held(self, cookie: str | None, now: datetime) -> list[str]:
        """The tags of a valid, unexpired cookie, the latest first; [] for anything else."""
        payload = self._signer.unsign(cookie or "")
        if not payload or not isinstance(payload.get("t"), list):
            return []
        if not isinstance(payload.get("x"), int) or now.timestamp() >= payload["x"]:
            return []
        return [t for t in payload["t"] if isinstance(t, str)]

    def holds(self, cookie: str | None, connection_id: UUID | str, now: datetime) -> bool:
        return self.tag(connection_id) in self.held(cookie, now)

    def grant(
        self, response: Any, cookie: str | None, connection_id: UUID | str, now: datetime
    ) -> Any:
        """Adds a session for the connection to the browser's cookie (kept: the others it
        holds), and renews the cookie's expiry."""
        tag = self.tag(connection_id)
        tags = [tag, *[t for t in self.held(cookie, now) if t != tag]][:_KEPT]
        value = self._signer.sign({"t": tags, "x": int((now + LIFETIME).timestamp())})
        response.set_cookie(
            COOKIE,
            value,
            max_age=int(LIFETIME.total_seconds()),
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )
        return response
