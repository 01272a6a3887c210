"""The event-sourced application: where Connection aggregates are saved and loaded."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from copy import deepcopy
from typing import Any, NoReturn
from uuid import UUID

import anyio.to_thread
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, Mapper, StoredEvent
from eventsourcing.utils import get_topic

from adapters.eventstore import schema_lock
from adapters.personal_mapper import PersonalMapper
from domain.connection import Connection
from domain.exceptions import NotFound, VersionConflict
from domain.seller_claims import SellerClaim, SellingPartnerAlreadyConnected, claim_id
from service.connections.group_commit import GroupCommit, LoopBatcher
from service.connections.library_seam import fastforward_lock


def project(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's `project_aggregate` (each event's `mutate` in turn) without its check
    of every event against a runtime Protocol: an `isinstance` that walks the protocol's
    members, 40 % of the time a load from a snapshot and 49 events took. Every event of
    this store (the connections', the seller claims', snapshots) mutates."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class ConnectionsApp(Application[UUID]):
    name = "connections"
    # A long-lived connection (years of reminders and refresh warnings) loads from its
    # latest snapshot plus a few events instead of its whole history.
    snapshotting_intervals = {Connection: 50}  # noqa: RUF012 - the library's class attribute
    snapshotting_projectors = {Connection: project}  # noqa: RUF012 - as above

    def construct_mapper(self) -> Mapper:
        """The library's mapper, with personal values sealed per connection (SPEC §14,
        adapters.personal_mapper); its data keys are given by the composition root."""
        mapper = PersonalMapper(
            transcoder=self.construct_transcoder(),
            cipher=self.factory.cipher(),
            compressor=self.factory.compressor(),
            personal_topics=frozenset(
                get_topic(cls)
                for cls in vars(Connection).values()
                if isinstance(cls, type) and issubclass(cls, Connection.Event)
            ),
        )
        mapper.aggregate_topic = get_topic(Connection)
        return mapper

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        # Constructing the application creates the event store's tables: processes
        # starting together on a new database take turns (see adapters.eventstore).
        with schema_lock(env or {}):
            super().__init__(env=env)
        self.group_commit = GroupCommit(self)
        # Data keys for the personal values, taken in the writer's thread (see `store`).
        self.loop_batcher = LoopBatcher(self.group_commit, lambda events: self.mapper.warm(events))  # type: ignore[attr-defined]
        # Told after each commit that recorded events, in this process, with the ids of
        # the aggregates it recorded events for; registered by the composition root
        # (service.container): the worker's Waker, the token memory.
        self.commit_listeners: list[Callable[..., None]] = []

    def data_key_ids(self, connection_id: str | UUID, *, up_to: int | None = None) -> list[str]:
        """The data keys that sealed a connection's recorded events (up to version `up_to`)."""
        mapper: Any = self.mapper
        stored = self.recorder.select_events(UUID(str(connection_id)), lte=up_to)
        return list(dict.fromkeys(k for s in stored for k in mapper.key_ids(mapper.decoded(s))))

    def sealing_key_of(self, connection_id: str) -> str | None:
        """The data key a connection's first event names (adapters.data_keys.locate)."""
        found = self.data_key_ids(connection_id, up_to=1)
        return found[0] if found else None

    # The one loader: every load of a connection in the service comes through one of the
    # two methods below (tests/connections/test_loader.py fails on any other
    # `repository.get`).

    def load(
        self, tenant_id: str, connection_id: str | UUID, version: int | None = None
    ) -> Connection:
        """The tenant's connection; another tenant's is as absent as a missing one."""
        connection = self.load_without_tenant_check(connection_id, version)
        if connection.tenant_id != tenant_id:
            raise NotFound(f"No connection {str(connection_id)!r}.")
        return connection

    def load_without_tenant_check(
        self, connection_id: str | UUID, version: int | None = None
    ) -> Connection:
        """The connection, whichever tenant's: for the service's own paths that act for no
        tenant (the followers, the workers, the owner's signed links and Amazon's
        callbacks, a connection the token path already checked). A request acting for a
        tenant uses `load`. At a `version` this process's cache holds, a copy of the
        cached aggregate: the library reads a past version from the store, and the mail
        outbox asks for each mailed event's own version, usually the latest."""
        if version is not None and (cached := self._cached_at(connection_id, version)):
            return cached
        try:
            key = UUID(str(connection_id))
            # Uncopied: the library copies a cached aggregate after letting go of its
            # fast-forward lock, when another thread's fast-forward may be half done in it.
            aggregate = self.repository.get(
                key, version=version, projector_func=project, deepcopy_from_cache=False
            )
        except (ValueError, AggregateNotFoundError):
            raise NotFound(f"No connection {str(connection_id)!r}.") from None
        if not isinstance(aggregate, Connection):
            raise NotFound(f"No connection {str(connection_id)!r}.")
        if version is None and self.repository.cache is not None:  # the cached object
            with fastforward_lock(self, key):
                aggregate = deepcopy(aggregate)
        return aggregate

    def _cached_at(self, connection_id: str | UUID, version: int) -> Connection | None:
        """A copy of the cached connection when it is at `version`, else None. Taken under
        the library's fast-forward lock, and checked after: a thread fast-forwarding the
        cached one changes it in place, version last."""
        cached = self._cached(connection_id)
        if not isinstance(cached, Connection) or cached.version != version:
            return None
        with fastforward_lock(self, cached.id):
            copy = deepcopy(cached)
        return copy if copy.version == version else None

    def cached_version(self, tenant_id: str, connection_id: str) -> int | None:
        """The version of the tenant's connection in this process's aggregate cache, or
        None (not cached, not a connection, another tenant's; the library caches what a
        load read, not what a save wrote). No query and no copy: for
        a read on the event loop that then asks the store whether anything came after it
        (ConnectionService.get_json_async). A cached aggregate is fast-forwarded in place
        by the library, so only the two fields that say which version it is are read:
        its version, and its tenant (which never changes)."""
        cached = self._cached(connection_id)
        if not isinstance(cached, Connection) or cached.tenant_id != tenant_id:
            return None
        return cached.version

    def _cached(self, connection_id: str | UUID) -> Any:
        """What this process's aggregate cache holds under the id (the library's object,
        which it fast-forwards in place: read it, or copy it), or None."""
        try:
            return self.repository.cache.get(UUID(str(connection_id)))  # type: ignore[union-attr]
        except (KeyError, ValueError, AttributeError):
            return None

    async def load_async(self, tenant_id: str, connection_id: str, reads: Any) -> Connection:
        """`load` on the event loop (PostgreSQL: `reads`, adapters.tables.async_reads), no
        thread: a copy of this process's cached connection when one indexed statement says
        no event came after it; otherwise (not cached here, or moved on since) the
        connection read as the library reads it, from its latest snapshot and the events
        after. A copy the store has moved past is never brought up to date in place: a
        thread fast-forwarding the cached aggregate while it was copied may have left it
        half changed (its version is set last, so such a copy always looks behind).
        NotFound as `load`."""
        try:
            key = UUID(connection_id)
        except ValueError:
            raise NotFound(f"No connection {connection_id!r}.") from None
        cached = self._cached(key)
        if cached is not None:
            if not isinstance(cached, Connection) or cached.tenant_id != tenant_id:
                raise NotFound(f"No connection {connection_id!r}.")
            copy = deepcopy(cached)
            if not await reads.query(reads.events_after, (key, copy.version)):
                return copy
        aggregate: Any = None
        if reads.latest_snapshot is not None:
            for row in await reads.query(reads.latest_snapshot, (key,)):
                aggregate = self.mapper.to_domain_event(StoredEvent(**row)).mutate(None)
        after = aggregate.version if aggregate is not None else 0
        for row in await reads.query(reads.events_from, (key, after)):
            aggregate = self.mapper.to_domain_event(StoredEvent(**row)).mutate(aggregate)
        if not isinstance(aggregate, Connection) or aggregate.tenant_id != tenant_id:
            raise NotFound(f"No connection {connection_id!r}.")
        return aggregate

    def remember(self, aggregate: Any) -> None:
        """Keeps a connection this process just saved in its aggregate cache (the library
        keeps only what a load read), unless the cache has a later version: the next
        command or read of it here then needs no load. The caller no longer uses it.
        Whatever version stays, the cache's fast-forward brings it up to the store's."""
        cache = self.repository.cache
        if cache is None or aggregate.pending_events:
            return
        try:
            current = cache.get(aggregate.id)
        except KeyError:
            current = None
        if current is None or current.version < aggregate.version:
            cache.put(aggregate.id, aggregate)

    def store(self, aggregate: Any) -> int | None:
        """Saves pending events, in one transaction with other threads' commands of the
        same moment (service.connections.group_commit); returns the last notification id.
        An authorization takes the connection's seller claim and a disconnection releases
        it, in the same transaction (domain.seller_claims). A lost race on the aggregate's
        version is a VersionConflict, on the seller a SellingPartnerAlreadyConnected;
        never a storage error."""
        claims = self._claims_moved_by(aggregate)
        # Data keys for the personal values, made here rather than by the batch's writer.
        self.mapper.warm(getattr(aggregate, "pending_events", ()))  # type: ignore[attr-defined]
        try:
            recordings = self.group_commit.save(aggregate, *claims)
        except IntegrityError:
            self._refused(aggregate, claims)
        return self._stored(recordings)

    async def store_async(self, aggregate: Any) -> int | None:
        """`store` from the event loop, without a thread per command: in a batch with the
        commands of the same moment (service.connections.group_commit.LoopBatcher).
        A command that takes or releases a seller reads the claim first: it takes the
        blocking `store` in a thread, as before."""
        if isinstance(aggregate, Connection) and any(
            isinstance(e, (*TAKES_SELLER, Connection.Disconnected))
            for e in aggregate.pending_events
        ):
            return await anyio.to_thread.run_sync(self.store, aggregate)
        try:
            recordings = await self.loop_batcher.save(aggregate)
        except IntegrityError:
            self._refused(aggregate, [])
        return self._stored(recordings)

    def _refused(self, aggregate: Any, claims: list[SellerClaim]) -> NoReturn:
        """A lost race: on a seller (another connection holds it), else on the version."""
        for claim in claims:
            holder = self._claim(claim.tenant_id, claim.selling_partner_id)
            if holder is not None and holder.holder not in (None, str(aggregate.id)):
                raise SellingPartnerAlreadyConnected(
                    claim.selling_partner_id, holder.holder
                ) from None
        raise VersionConflict(
            "The connection was changed by another request at the same time; "
            "read it again and retry."
        ) from None

    def _stored(self, recordings: list[Any]) -> int | None:
        if not recordings:
            return None
        ids = dict.fromkeys(str(r.domain_event.originator_id) for r in recordings)
        for listener in self.commit_listeners:
            listener(*ids)
        return recordings[-1].notification.id

    # Seller claims (domain.seller_claims): read here, the one place that reads aggregates.

    def _claim(self, tenant_id: str, selling_partner_id: str) -> SellerClaim | None:
        try:
            claim = self.repository.get(
                claim_id(tenant_id, selling_partner_id), projector_func=project
            )
        except AggregateNotFoundError:
            return None
        return claim if isinstance(claim, SellerClaim) else None

    def _claims_moved_by(self, aggregate: Any) -> list[SellerClaim]:
        """The claims the connection's pending events take or release, changed and ready
        to be saved with them. Refuses at once a seller another live connection holds."""
        if not isinstance(aggregate, Connection):
            return []
        claims = []
        for event in aggregate.pending_events:
            if isinstance(event, TAKES_SELLER):
                spid = event.selling_partner_id
                claim = self._claim(aggregate.tenant_id, spid) or SellerClaim.open(
                    aggregate.tenant_id, spid, event.timestamp
                )
                claim.take(str(aggregate.id), event.timestamp)
                claims.append(claim)
            elif isinstance(event, Connection.Disconnected) and aggregate.selling_partner_id:
                claim = self._claim(aggregate.tenant_id, aggregate.selling_partner_id)
                if claim is not None:
                    claim.release(str(aggregate.id), event.timestamp)
                    claims.append(claim)
        return claims


# The events after which a connection holds its selling partner.
TAKES_SELLER = (Connection.AuthorizationCompleted, Connection.AuthorizationImported)
