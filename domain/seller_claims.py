"""Who holds a seller within a tenant: one live connection per (tenant, selling partner).

A read before the write cannot keep that rule: two requests both read "free", both record.
So the rule is a small aggregate of its own, one per (tenant, seller), with an id derived
from the pair. A connection's authorization is saved in the same transaction as the claim's
event (service.connections.application); two connections taking one seller at once write
the same version of the same claim, and the store's (originator, version) uniqueness lets
only one of them commit, on SQLite and PostgreSQL alike. Disconnecting releases the claim.

Its events share the connections' log but are no connection's: every follower (read model,
outboxes, audit, history) looks only at `Connection` events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.exceptions import DomainError

# Fixed for good: changing it would orphan every claim recorded so far.
_NAMESPACE = UUID("5b0c1f52-3e0a-4d55-9a63-9d1f6c1e7a21")


class SellingPartnerAlreadyConnected(DomainError):
    code = "SELLING_PARTNER_ALREADY_CONNECTED"

    def __init__(self, selling_partner_id: str, holder: str | None) -> None:
        held_by = f" (connection {holder})" if holder else ""
        super().__init__(
            f"Selling partner {selling_partner_id} is already connected{held_by}; "
            "disconnect it first or use it."
        )
        self.holder = holder


def claim_id(tenant_id: str, selling_partner_id: str) -> UUID:
    return uuid5(_NAMESPACE, f"{tenant_id}\n{selling_partner_id}")


class SellerClaim(Aggregate):
    class Opened(Aggregate.Created):
        tenant_id: str
        selling_partner_id: str

        def apply(self, claim: Any) -> None:
            claim.tenant_id = self.tenant_id
            claim.selling_partner_id = self.selling_partner_id
            claim.holder = None

    class Taken(Aggregate.Event):
        connection_id: str

        def apply(self, claim: Any) -> None:
            claim.holder = self.connection_id

    class Released(Aggregate.Event):
        connection_id: str

        def apply(self, claim: Any) -> None:
            claim.holder = None

    @classmethod
    def open(cls, tenant_id: str, selling_partner_id: str, at: datetime) -> SellerClaim:
        return cls._create(
            cls.Opened,
            id=claim_id(tenant_id, selling_partner_id),
            tenant_id=tenant_id,
            selling_partner_id=selling_partner_id,
            timestamp=at,
        )

    def take(self, connection_id: str, at: datetime) -> None:
        """The connection holds the seller from now; refused while another one does."""
        if self.holder == connection_id:
            return
        if self.holder is not None:
            raise SellingPartnerAlreadyConnected(self.selling_partner_id, self.holder)
        self.trigger_event(self.Taken, connection_id=connection_id, timestamp=at)

    def release(self, connection_id: str, at: datetime) -> None:
        """The connection let go of the seller (disconnected); nothing if it held none."""
        if self.holder == connection_id:
            self.trigger_event(self.Released, connection_id=connection_id, timestamp=at)
