"""Server-side sessions for the console's people, CSRF tokens, and the sign-in throttle.

The browser holds only a random token in an HttpOnly, SameSite=Strict cookie scoped to
/console; the store holds its SHA-256 with who it is and the session's CSRF token, so
signing out (or removing the person) ends it in every process at once. A session idle
for IDLE ends at the next request. Forms shown before a session (sign-in) carry a token
that must match a short-lived cookie of the same kind (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from adapters.tables.console_sessions import ConsoleSessionTables, SessionRow
from adapters.tables.instants import iso
from service.console.people import ConsolePeople, Person

COOKIE = "console_session"
FORM_COOKIE = "console_form"  # the pre-session CSRF cookie of the sign-in forms
PATH = "/console"
IDLE = timedelta(minutes=30)
SEEN_EVERY = timedelta(seconds=30)  # how stale seen_at may be before a request writes it
# The throttle: attempts per window, per address (hashed) and per client address.
WINDOW = timedelta(minutes=15)
PER_ADDRESS = 5
PER_CLIENT = 30


@dataclass(frozen=True)
class Session:
    id: str
    person: Person
    csrf: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


class Sessions:
    def __init__(
        self, tables: ConsoleSessionTables, people: ConsolePeople, clock: Any, secure: bool
    ) -> None:
        self.tables = tables
        self.people = people
        self.clock = clock
        self.secure = secure

    def open(self, person: Person) -> tuple[str, Session]:
        """A new session: (the cookie's value, the session)."""
        self.tables.close_idle(iso(self.clock.now() - IDLE) or "")  # the store keeps live ones
        token, now = secrets.token_urlsafe(32), iso(self.clock.now()) or ""
        row = SessionRow(
            digest(token), person.tenant_id, person.email, secrets.token_urlsafe(24), now, now
        )
        self.tables.open(row)
        return token, Session(row.id, person, row.csrf)

    def current(self, cookie: str | None) -> tuple[Session | None, bool]:
        """(the live session the cookie names, or None; whether one just timed out)."""
        if not cookie:
            return None, False
        row = self.tables.get(digest(cookie))
        if row is None:
            return None, False
        now = self.clock.now()
        seen = _instant(row.seen_at)
        if now - seen > IDLE:
            self.tables.close(row.id)
            return None, True
        person = self.people.get(row.tenant_id, row.email)
        if person is None:  # removed meanwhile
            self.tables.close(row.id)
            return None, False
        if now - seen > SEEN_EVERY:
            self.tables.seen(row.id, iso(now) or "")
        return Session(row.id, person, row.csrf), False

    def close(self, session: Session) -> None:
        self.tables.close(session.id)

    def set_cookie(self, response: Any, token: str) -> Any:
        response.set_cookie(
            COOKIE, token, path=PATH, httponly=True, secure=self.secure, samesite="strict"
        )
        return response

    def clear_cookie(self, response: Any) -> Any:
        response.delete_cookie(COOKIE, path=PATH)
        return response

    def form_token(self, cookie: str | None) -> str:
        """The sign-in forms' CSRF token: the browser's form cookie, or a new one."""
        return cookie if cookie and len(cookie) == 32 else secrets.token_hex(16)

    def set_form_cookie(self, response: Any, token: str) -> Any:
        response.set_cookie(
            FORM_COOKIE, token, path=PATH, httponly=True, secure=self.secure, samesite="strict"
        )
        return response

    def allowed(self, address: str, client: str) -> bool:
        """Counts a sign-in attempt for `address` from `client`; False once either went
        past its limit in the last WINDOW (known address or not: the answer tells nothing)."""
        now = self.clock.now()
        at, since = iso(now) or "", iso(now - WINDOW) or ""
        by_client = self.tables.attempt(f"client:{digest(client)}", at, since, PER_CLIENT)
        by_address = self.tables.attempt(f"address:{digest(address)}", at, since, PER_ADDRESS)
        return by_client and by_address


def _instant(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)
