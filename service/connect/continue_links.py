"""The Login URI's e-mailed continue links (SPEC §12).

A browser at Amazon's Login URI without an owner session may ask for a one-time link to be
mailed to the owner address on file of each connection that holds the seller. Such a mail
is a row of the mail outbox (kind `login_link`); what Amazon asked for (its callback URI,
its state, the seller, the version) is kept in that row's facts encrypted with the
service's key, never in plain text. The link is the row's id signed with a key derived from
SECRET_KEY, computed again when the mail is rendered, so it is stored nowhere. It works
once (its use is reserved in the store, so two clicks or two processes cannot both
continue) and for an hour.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta

from adapters.crypto import SecretBox, Signer
from adapters.tables.instants import iso
from adapters.tables.login_links import SpentLoginLinks

PATH = "/v1/oauth/amazon/login/continue/"
LIFETIME = timedelta(hours=1)


class ContinueLinks:
    def __init__(
        self, key: bytes, public_base_url: str, box: SecretBox, spent: SpentLoginLinks
    ) -> None:
        self._signer = Signer(hmac.new(key, b"continue-link", hashlib.sha256).hexdigest())
        self.base = public_base_url.rstrip("/")
        self.box = box
        self.spent = spent

    def url(self, mail_id: str) -> str:
        return f"{self.base}{PATH}{self._signer.sign({'m': mail_id})}"

    def mail_id(self, token: str) -> str | None:
        payload = self._signer.unsign(token)
        mail = (payload or {}).get("m")
        return mail if isinstance(mail, str) else None

    def seal(self, request: dict[str, str]) -> str:
        return self.box.encrypt(json.dumps(request, sort_keys=True))

    def unseal(self, sealed: str) -> dict[str, str] | None:
        try:
            found = json.loads(self.box.decrypt(sealed))
        except ValueError:
            return None
        return found if isinstance(found, dict) else None

    def spend(self, mail_id: str, now: datetime) -> bool:
        """True once per link: the first use wins, in the store's own transaction."""
        return self.spent.spend(mail_id, iso(now) or "")
