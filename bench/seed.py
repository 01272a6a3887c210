"""Connections built in-process, fast: the aggregate's own commands, saved in bulk.

The load runs need connections already in a given state (an action's source state);
replay needs long histories; the rebuild needs a large log. Building them over HTTP
would take longer than measuring, so they are made here with `ConnectionsApp.save`
of many aggregates at once, on the store the server uses.
"""

from __future__ import annotations

import importlib
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from adapters.clock import SystemClock
from adapters.crypto import SecretBox
from adapters.eventstore import eventsourcing_env
from adapters.migrations import ensure_migrated
from bench.server import SECRET_KEY, TENANT
from domain.connection import Connection, Context, Durations
from service.connections.application import ConnectionsApp
from service.container import seal_personal_values
from service.settings import Settings

DURATIONS = Durations()
SC_USER = "seller-central@integrator.example"


def open_app(
    url: str, app_class: type[ConnectionsApp] = ConnectionsApp, *, cache: bool = True
) -> ConnectionsApp:
    """The service's application on `url`; `cache=False` turns its aggregate cache off,
    so every load reads the store."""
    env = eventsourcing_env(url, pool_size=2)
    if not cache:
        env["AGGREGATE_CACHE_MAXSIZE"] = ""
    ensure_migrated(env, migrate=True)  # as the server does on start
    app = app_class(env=env)
    # Personal values sealed under the connections' keys, as the server seals them (a
    # store seeded in plaintext would not be the one users have).
    tables = importlib.import_module(env["TABLES_MODULE"]).TABLES_CLASS(app.recorder.datastore)
    settings = Settings.from_env({"DATABASE_URL": url, "SANDBOX": "1", "SECRET_KEY": SECRET_KEY})
    seal_personal_values(app, tables, settings, SystemClock())
    return app


class Seeder:
    def __init__(self, app: ConnectionsApp) -> None:
        self.app = app
        settings = Settings.from_env(
            {"DATABASE_URL": "sqlite:///:memory:", "SANDBOX": "1", "SECRET_KEY": SECRET_KEY}
        )
        self.token = SecretBox(settings.fernet_keys).encrypt("Atzr|bench-refresh-token")

    # ------------------------------------------------------------- recipes

    def invited(self, account_type: str = "seller", advertising: bool = False) -> Connection:
        return Connection.invite(
            context(),
            tenant_id=TENANT,
            owner_email="owner@example.com",
            region="na",
            marketplace_ids=["ATVPDKIKX0DER"],
            account_type=account_type,
            requires_advertising=advertising,
            durations=DURATIONS,
        )

    def authorized(self, account_type: str = "seller", advertising: bool = False) -> Connection:
        c = self.invited(account_type, advertising)
        at = context()
        c.start_authorization(at, secrets.token_urlsafe(12), at.at + DURATIONS.authorization_window)
        c.complete_authorization(
            context(),
            selling_partner_id=f"A{secrets.token_hex(6).upper()}",
            refresh_token_encrypted=self.token,
            durations=DURATIONS,
        )
        return c

    def sc_user_invited(self) -> Connection:
        c = self.authorized("seller")
        c.invite_seller_central_user(context(), SC_USER, DURATIONS)
        return c

    def vendor_authorized(self) -> Connection:
        return self.authorized("vendor")

    def advertising(self) -> Connection:
        return self.authorized("seller", advertising=True)

    def reauth_due(self) -> Connection:
        c = self.authorized("vendor")
        c.activate(context())
        c.mark_reauth_due(context())
        return c

    def warned(self, events: int) -> Connection:
        """A vendor connection with `events` events: authorized, then warnings."""
        c = self.vendor_authorized()
        while c.version < events:
            c.record_warning(context(), "AMAZON_UNAVAILABLE")
        return c

    # -------------------------------------------------------------- saving

    def many(self, recipe: Callable[[], Connection], n: int, batch: int = 200) -> list[str]:
        """`n` connections from `recipe`, saved `batch` aggregates per transaction."""
        ids: list[str] = []
        for size in _chunks(n, batch):
            made = [recipe() for _ in range(size)]
            self._save(*made)
            ids += [str(c.id) for c in made]
        return ids

    def history(self, events: int, batch: int = 500) -> str:
        """One connection with a history of `events` events, saved `batch` at a time (the
        application snapshots it every 50 events, as it does in service)."""
        c = self.vendor_authorized()
        self._save(c)
        while c.version < events:
            for _ in range(min(batch, events - c.version)):
                c.record_warning(context(), "AMAZON_UNAVAILABLE")
            self._save(c)
        return str(c.id)

    def _save(self, *aggregates: Connection) -> None:
        # The data keys taken first, as ConnectionsApp.store does for a command.
        self.app.mapper.warm([e for a in aggregates for e in a.pending_events])  # type: ignore[attr-defined]
        self.app.save(*aggregates)


def context() -> Context:
    return Context(actor="bench:seed", at=datetime.now(UTC))


def _chunks(n: int, size: int) -> Iterator[int]:
    while n > 0:
        yield min(size, n)
        n -= size
