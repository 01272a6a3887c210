"""Application services for connections: load → command → save, for HTTP, CLI and workers."""

from __future__ import annotations

import itertools
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from adapters.tables.instants import iso
from adapters.tables.read_model import ConnectionsViewTables, ListQuery
from domain.connection import Connection, Context, Durations
from domain.exceptions import NotFound, ValidationFailed, VersionConflict
from domain.origins import check_return_url
from service.api.caller import Caller
from service.connections.application import ConnectionsApp
from service.connections.presenters import Bodies
from service.connections.read_model import ConnectionsProjection

log = logging.getLogger(__name__)


@dataclass
class ActionResult:
    connection: Connection
    extras: dict[str, Any] = field(default_factory=dict)


class ConnectionService:
    def __init__(
        self,
        app: ConnectionsApp,
        view: ConnectionsViewTables,
        projection: ConnectionsProjection,
        clock: Any,
        consent: Any,
        durations: Durations,
        seller_central_user_email: str,
        origins: Callable[[str], list[str]] = lambda tenant_id: [],
    ) -> None:
        self.app = app
        self.view = view
        self.projection = projection
        self.clock = clock
        self.consent = consent  # builds consent URLs with signed state (service.connect.oauth)
        self.durations = durations
        self.seller_central_user_email = seller_central_user_email
        self.origins = origins  # the origins a tenant registered for return_url
        self._view_covers = 0  # a log position the read model was seen to include
        self.bodies = Bodies()
        # Reads on the event loop (adapters.tables.async_reads; PostgreSQL), set by the
        # composition root; None: every read takes the blocking path in a thread.
        self.async_reads: Any = None
        self._actions: dict[
            str, Callable[[Connection, Context, dict[str, Any]], dict[str, Any]]
        ] = {
            "resend_invitation": self._resend_invitation,
            "start_authorization": self._start_authorization,
            "invite_seller_central_user": self._invite_seller_central_user,
            "confirm_seller_central_user": self._confirm_seller_central_user,
            "fail_seller_central_authorization": self._fail_seller_central_authorization,
            "start_advertising_authorization": self._start_advertising_authorization,
            "activate": lambda c, ctx, body: c.activate(ctx) or {},
            "start_reauthorization": self._start_reauthorization,
            "disconnect": lambda c, ctx, body: (
                c.disconnect(ctx, body.get("reason") or "requested") or {}
            ),
        }

    # ------------------------------------------------------------------ plumbing

    def context(self, caller: Caller) -> Context:
        return Context(
            actor=caller.actor,
            at=self.clock.now(),
            request_id=caller.request_id,
            correlation_id=caller.correlation_id or caller.request_id,
        )

    def save(self, aggregate: Connection) -> None:
        # One commit per command: read models follow the log (worker, and readers below).
        self.app.store(aggregate)

    def fresh_view(self) -> ConnectionsViewTables:
        """The read model, caught up first: whoever reads it sees every change committed
        before the read, in any process (the worker usually left nothing to do). When the
        log's head has not moved since this process last saw the view cover it, one
        index lookup (the head) is the whole check."""
        head = self.app.recorder.max_notification_id() or 0
        if head > self._view_covers:
            # Up to the head seen, no further: under a steady stream of commands an
            # open-ended catch-up would chase the log instead of answering.
            self.projection.catch_up(until=head)
            # Covered now (an event it is stuck on is retried by the worker's passes).
            self._view_covers = max(self._view_covers, head)
        return self.view

    # ------------------------------------------------------------------ commands

    def create(self, caller: Caller, **spec: Any) -> Connection:
        if spec.get("return_url") is not None:
            check_return_url(spec["return_url"], self.origins(caller.tenant_id))
        connection = Connection.invite(
            self.context(caller), tenant_id=caller.tenant_id, durations=self.durations, **spec
        )
        self.save(connection)
        return connection

    async def create_async(self, caller: Caller, **spec: Any) -> Connection:
        """`create` on the event loop (no `return_url`: checking one reads the tenant's
        origins, which the blocking `create` does): saved in a batch with the commands of
        the same moment, one thread hop per batch rather than per request."""
        assert spec.get("return_url") is None
        connection = Connection.invite(
            self.context(caller), tenant_id=caller.tenant_id, durations=self.durations, **spec
        )
        await self.app.store_async(connection)
        return connection

    def act(
        self,
        caller: Caller,
        connection_id: str,
        action: str,
        body: dict[str, Any],
        expected_version: int | None = None,
    ) -> ActionResult:
        connection = self.app.load(caller.tenant_id, connection_id)
        if expected_version is not None and expected_version != connection.version:
            raise VersionConflict(
                f"If-Match expected version {expected_version}, but the connection is at "
                f"version {connection.version}.",
                situation="if_match",
                current_version=connection.version,
            )
        extras = self._actions[action](connection, self.context(caller), body)
        self.save(connection)
        return ActionResult(connection, extras)

    async def act_async(
        self,
        caller: Caller,
        connection_id: str,
        action: str,
        body: dict[str, Any],
        expected_version: int | None = None,
    ) -> ActionResult | None:
        """`act` on the event loop (PostgreSQL, `async_reads` set): the connection loaded
        without a thread (ConnectionsApp.load_async), and the command joins the loop's
        group commit. None without the asynchronous reads (SQLite): the blocking `act`
        answers instead."""
        reads = self.async_reads
        if reads is None:
            return None
        connection = await self.app.load_async(caller.tenant_id, connection_id, reads)
        if expected_version is not None and expected_version != connection.version:
            raise VersionConflict(
                f"If-Match expected version {expected_version}, but the connection is at "
                f"version {connection.version}.",
                situation="if_match",
                current_version=connection.version,
            )
        extras = self._actions[action](connection, self.context(caller), body)
        await self.app.store_async(connection)
        return ActionResult(connection, extras)

    def _resend_invitation(self, c: Connection, ctx: Context, body: dict) -> dict:
        c.resend_invitation(ctx, self.durations)
        return {"invitation_expires_at": c.invitation_expires_at}

    def _start_authorization(self, c: Connection, ctx: Context, body: dict) -> dict:
        return self._consent(ctx, c.start_authorization, self.consent.spapi_url, c)

    def _start_reauthorization(self, c: Connection, ctx: Context, body: dict) -> dict:
        return self._consent(ctx, c.start_reauthorization, self.consent.spapi_url, c)

    def _start_advertising_authorization(self, c: Connection, ctx: Context, body: dict) -> dict:
        return self._consent(ctx, c.start_advertising_authorization, self.consent.ads_url, c)

    def _consent(self, ctx: Context, start: Callable, url_of: Callable, c: Connection) -> dict:
        """Opens a consent attempt (`start`) and answers Amazon's URL for it."""
        attempt, expires_at = (
            secrets.token_urlsafe(12),
            ctx.at + self.durations.authorization_window,
        )
        start(ctx, attempt, expires_at)
        return {"consent_url": url_of(c, attempt, expires_at), "expires_at": expires_at}

    def _invite_seller_central_user(self, c: Connection, ctx: Context, body: dict) -> dict:
        c.invite_seller_central_user(ctx, self.seller_central_user_email, self.durations)
        return {
            "seller_central_user_email": self.seller_central_user_email,
            "required_permissions": c.seller_central["required_permissions"],
        }

    def _confirm_seller_central_user(self, c: Connection, ctx: Context, body: dict) -> dict:
        verified = c.confirm_seller_central_user(ctx, dict(body["permissions"]))
        return {"permissions_verified": verified}

    def _fail_seller_central_authorization(self, c: Connection, ctx: Context, body: dict) -> dict:
        c.fail_seller_central_authorization(ctx, body.get("detail"))
        return {}

    # ------------------------------------------------------------------- queries

    def get(
        self,
        caller: Caller,
        connection_id: str,
        *,
        version: int | None = None,
        as_of: datetime | None = None,
    ) -> Connection:
        """The connection now, at `version`, or as it was at `as_of`; each read loads it
        once (`as_of` replays the history up to that moment)."""
        if as_of is not None:
            return self._as_of(caller, connection_id, as_of)
        # Beyond 64 bits no version can exist, and the stores refuse to compare with one
        # (SQLite overflowed into a 500): answered without asking them.
        if version is not None and not 1 <= version < 2**63:
            raise NotFound(f"Connection {connection_id} has no version {version}.")
        connection = self.app.load(caller.tenant_id, connection_id, version=version)
        if version is not None and connection.version != version:
            raise NotFound(
                f"Connection {connection_id} has no version {version}; its latest "
                f"is {connection.version}."
            )
        return connection

    async def get_json_async(self, caller: Caller, connection_id: str) -> dict[str, Any] | None:
        """The connection's API body now, on the event loop (PostgreSQL, `async_reads`
        set): when this process has its latest version cached and rendered (bodies never
        change), one indexed statement through the asynchronous pool saying that no
        event came after it; otherwise the connection loaded on the loop as a command
        loads it (ConnectionsApp.load_async), rendered, and kept in the cache for the
        next read. NotFound as `get`. None on SQLite: the blocking `get` answers."""
        reads = self.async_reads
        if reads is None:
            return None
        version = self.app.cached_version(caller.tenant_id, connection_id)
        if version is not None:  # a cached version: connection_id is a UUID
            key = UUID(connection_id)
            body = self.bodies.get(str(key), version)
            if body is not None and not await reads.query(reads.events_after, (key, version)):
                return body
        connection = await self.app.load_async(caller.tenant_id, connection_id, reads)
        body = self.bodies.of(connection)
        self.app.remember(connection)  # after rendering: the cache may move it on
        return body

    def _as_of(self, caller: Caller, connection_id: str, as_of: datetime) -> Connection:
        originator, first = self._owned(caller, connection_id)
        connection = None
        for e in itertools.chain([first], self.app.events.get(originator, gt=1)):
            if e.timestamp > as_of:
                break
            connection = e.mutate(connection)
        if connection is None:
            raise NotFound(f"Connection {connection_id} did not exist at {iso(as_of)}.")
        return connection

    def _owned(self, caller: Caller, connection_id: str) -> tuple[UUID, Any]:
        """The id and first event of the tenant's connection; another tenant's is as
        absent as a missing one. The first event says whose it is: reading it is the
        tenant check."""
        try:
            originator = UUID(connection_id)
        except ValueError:
            raise NotFound(f"No connection {connection_id!r}.") from None
        first = next(iter(self.app.events.get(originator, lte=1)), None)
        # The log also holds seller claims (domain.seller_claims), which are no connection.
        if not isinstance(first, Connection.Event) or first.tenant_id != caller.tenant_id:
            raise NotFound(f"No connection {connection_id!r}.")
        return originator, first

    def list(self, query: ListQuery) -> list[Connection]:
        return [self.projection.from_row(row) for row in self.fresh_view().list(query)]

    def list_json(self, query: ListQuery) -> list[dict[str, Any]]:
        """The listed connections as the API shows them; a row at a version this process
        rendered before is not decoded again."""
        return self._bodies_of(self.fresh_view().list(query))

    async def list_json_async(self, query: ListQuery) -> list[dict[str, Any]] | None:
        """`list_json` on the event loop (PostgreSQL, `async_reads` set): the log's head,
        then the page, each one statement through the asynchronous pool. None when that
        cannot answer alone: no asynchronous reads (SQLite), or the read model must
        first catch up with commits it has not covered (the blocking `list_json` does)."""
        reads = self.async_reads
        if reads is None:
            return None
        head, page = await self.view.page_async(reads, query)
        if head > self._view_covers:
            return None
        bodies = [self.bodies.get(connection_id, version) for connection_id, version in page]
        missing = [page[i][0] for i, body in enumerate(bodies) if body is None]
        if missing:
            rows = await self.view.rows_async(reads, missing)
            for i, (connection_id, version) in enumerate(page):
                if bodies[i] is None:
                    row = rows.get(connection_id)
                    if row is None or row.version != version:
                        return None  # moved since the page was read: the blocking way
                    bodies[i] = self.bodies.put(self.projection.from_row(row))
        return bodies

    def _bodies_of(self, rows: list[Any]) -> list[dict[str, Any]]:
        bodies = []
        for row in rows:
            body = self.bodies.get(row.id, row.version)
            if body is None:
                body = self.bodies.put(self.projection.from_row(row))
            bodies.append(body)
        return bodies

    def json(self, connection: Connection) -> dict[str, Any]:
        """The connection as the API shows it, after a create or an action as after a read:
        `connection_json`, once per connection version in this process."""
        return self.bodies.of(connection)

    def cursor_of(self, caller: Caller, connection_id: str) -> tuple[str, str]:
        row = self.fresh_view().get(caller.tenant_id, connection_id)
        if row is None:
            raise ValidationFailed(f"starting_after names no connection {connection_id!r}.")
        return row.created_at, row.id

    def history(
        self, caller: Caller, connection_id: str, *, after_version: int = 0, limit: int = 100
    ) -> list[Any]:
        originator, first = self._owned(caller, connection_id)
        if after_version:
            return list(self.app.events.get(originator, gt=after_version, limit=limit))
        rest = self.app.events.get(originator, gt=1, limit=limit - 1) if limit > 1 else []
        return [first, *rest]
