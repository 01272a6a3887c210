"""The console's people and what each role may do (SPEC §13).

`viewer` reads connections and their timeline; `support` also resends invitations, copies
invitation links, disconnects (with a reason) and redelivers webhooks; `auditor` reads,
verifies the history and exports it; `admin` all of these, manages the console's people
and sees the operator's view. A password, when a person sets one (through a sign-in link),
is kept as an argon2id hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from adapters.tables.console_users import ConsoleUserRow, ConsoleUserTables
from adapters.tables.instants import iso
from domain.exceptions import ValidationFailed

READ, RESEND, COPY_LINK, DISCONNECT, REDELIVER = (
    "read",
    "resend_invitation",
    "copy_invitation_link",
    "disconnect",
    "redeliver",
)
VERIFY, EXPORT, MANAGE_PEOPLE, OPERATE = "verify", "export", "manage_people", "operate"
SUPPORT_ACTIONS = frozenset({RESEND, COPY_LINK, DISCONNECT, REDELIVER})
AUDIT_ACTIONS = frozenset({VERIFY, EXPORT})
ALLOWED: dict[str, frozenset[str]] = {
    "viewer": frozenset({READ}),
    "support": frozenset({READ}) | SUPPORT_ACTIONS,
    "auditor": frozenset({READ}) | AUDIT_ACTIONS,
    "admin": frozenset({READ, MANAGE_PEOPLE, OPERATE}) | SUPPORT_ACTIONS | AUDIT_ACTIONS,
}
ROLES = tuple(ALLOWED)
MIN_PASSWORD = 12
# argon2-cffi's defaults are RFC 9106's second recommendation (argon2id, 64 MiB, t=3).
_HASHER = PasswordHasher()
# Verified against when the address is unknown, so a wrong address costs what a wrong
# password costs and the answer's timing tells nothing.
_DUMMY = _HASHER.hash("not a password anyone has")


@dataclass(frozen=True)
class Person:
    tenant_id: str
    email: str
    role: str

    @property
    def actor(self) -> str:
        """How the connection's history names what this person did."""
        return f"console:{self.email}"

    def may(self, what: str) -> bool:
        return what in ALLOWED.get(self.role, frozenset())


def normal_email(raw: str) -> str | None:
    email = (raw or "").strip().lower()
    local, at, domain = email.partition("@")
    if (
        not at
        or not local
        or "." not in domain
        or len(email) > 254
        or any(c.isspace() for c in email)
    ):
        return None
    return email


class ConsolePeople:
    def __init__(self, tables: ConsoleUserTables, clock: Any) -> None:
        self.tables = tables
        self.clock = clock

    def add(self, tenant_id: str, email: str, role: str) -> Person:
        address = normal_email(email)
        if address is None:
            raise ValidationFailed(f"{email!r} is not an e-mail address.")
        if role not in ALLOWED:
            raise ValidationFailed(f"role must be one of {', '.join(ROLES)}.")
        self.tables.put(tenant_id, address, role, iso(self.clock.now()) or "")
        return Person(tenant_id, address, role)

    def remove(self, tenant_id: str, email: str) -> bool:
        return self.tables.remove(tenant_id, normal_email(email) or email)

    def of_tenant(self, tenant_id: str) -> list[ConsoleUserRow]:
        return self.tables.of_tenant(tenant_id)

    def get(self, tenant_id: str, email: str) -> Person | None:
        row = self.tables.get(tenant_id, email)
        return None if row is None else Person(row.tenant_id, row.email, row.role)

    def memberships(self, email: str) -> list[Person]:
        address = normal_email(email)
        if address is None:
            return []
        return [Person(r.tenant_id, r.email, r.role) for r in self.tables.of_email(address)]

    def set_password(self, person: Person, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise ValidationFailed(f"A password needs at least {MIN_PASSWORD} characters.")
        self.tables.set_password(person.tenant_id, person.email, _HASHER.hash(password))

    def check_password(self, email: str, password: str) -> Person | None:
        """The person whose password this is (the first tenant's, in tenant order), or None.
        Every call verifies at least one hash, known address or not."""
        address = normal_email(email) or ""
        rows = [r for r in self.tables.of_email(address) if r.password_hash]
        for row in rows:
            if _verifies(row.password_hash or "", password):
                return Person(row.tenant_id, row.email, row.role)
        if not rows:
            _verifies(_DUMMY, password)
        return None


def _verifies(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
