"""The owner's invitation link: `{PUBLIC_BASE_URL}/connect/<token>`.

The token is the connection id with an HMAC of it under a key derived from SECRET_KEY, so
it is unguessable, names that connection only, and needs no table (nothing secret is
stored). Whether it still opens anything is the connection's business: every state but
`disconnected` (an expired invitation is a disconnection too).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from uuid import UUID

_MAC_BYTES = 16
_TOKEN_CHARS = 43  # 32 bytes (the id and its MAC) in unpadded URL-safe base64


class InvitationLinks:
    remembered = 10_000  # links of recently shown connections, not signed again

    def __init__(self, key: bytes, public_base_url: str) -> None:
        self._key = key
        self.base = public_base_url.rstrip("/")
        self._urls: dict[str, str] = {}

    def token(self, connection_id: UUID | str) -> str:
        raw = UUID(str(connection_id)).bytes
        return base64.urlsafe_b64encode(raw + self._mac(raw)).decode().rstrip("=")

    def url(self, connection_id: UUID | str) -> str:
        key = str(connection_id)
        found = self._urls.get(key)
        if found is None:
            if len(self._urls) >= self.remembered:
                self._urls = {}
            found = self._urls[key] = f"{self.base}/connect/{self.token(connection_id)}"
        return found

    def connection_id(self, token: str) -> UUID | None:
        """The connection a token names, or None for anything this service did not issue.
        One spelling per token: base64's padding and the unused low bits of its last
        character would otherwise give each link four that open the same connection."""
        if len(token) != _TOKEN_CHARS or not token.isascii():
            return None
        try:
            data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except ValueError:
            return None
        raw, mac = data[:16], data[16:]
        if len(raw) != 16 or not hmac.compare_digest(mac, self._mac(raw)):
            return None
        if not hmac.compare_digest(token, self.token(UUID(bytes=raw))):
            return None
        return UUID(bytes=raw)

    def _mac(self, raw: bytes) -> bytes:
        return hmac.new(self._key, b"invitation:" + raw, hashlib.sha256).digest()[:_MAC_BYTES]
