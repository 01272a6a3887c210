"""Builds the service's parts from Settings: one place that wires adapters to services."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, replace
from typing import Any

from adapters.amazon import AmazonClient, AmazonSettings
from adapters.amazon.credentials import AppCredentials
from adapters.clock import Clock, SystemClock
from adapters.crypto import SecretBox, Signer
from adapters.data_keys import DataKeys
from adapters.event_positions import EventPositions
from adapters.migrations import ensure_migrated
from adapters.stored_events import StoredEvents
from adapters.tables.async_reads import AsyncReads
from adapters.tables.base import Tables
from adapters.tables.data_keys import DataKeyRows
from adapters.tables.erasure import ErasureTables
from adapters.tables.follower_faults import FollowerFaults
from adapters.tables.instants import iso
from adapters.tables.login_links import SpentLoginLinks
from adapters.tables.read_model import ConnectionsViewTables
from adapters.tables.tenant_settings import TenantTables
from adapters.wakeup import PostgresListener, Waker
from service.audit.chains import Audit
from service.connect.continue_links import ContinueLinks
from service.connect.links import InvitationLinks
from service.connect.oauth import Consent, OAuthCallbacks
from service.connect.owner_session import OwnerSessions
from service.connections.application import ConnectionsApp
from service.connections.read_model import ConnectionsProjection
from service.connections.service import ConnectionService
from service.console import build_console
from service.credentials import build_credentials
from service.erasure.service import Eraser
from service.keys.api_keys import ApiKeys
from service.keys.tenants import TenantProfiles
from service.mail import build_mail
from service.metrics import watch_app_credentials
from service.settings import Settings
from service.webhooks import build_webhooks


@dataclass
class Services:
    settings: Settings
    clock: Any
    app: ConnectionsApp
    tables: Tables
    view: ConnectionsViewTables
    projection: ConnectionsProjection
    connections: ConnectionService
    callbacks: OAuthCallbacks
    api_keys: ApiKeys
    amazon: AmazonClient
    box: SecretBox
    audit: Audit
    waker: Waker
    links: InvitationLinks
    tenants: TenantProfiles
    faults: FollowerFaults
    webhooks: Any = None  # built from the other parts, just after them
    mail: Any = None  # likewise
    credentials: Any = None  # likewise (service.credentials)
    owner_sessions: Any = None  # the owner's proof (SPEC §12, service.connect.owner_session)
    continue_links: Any = None  # the Login URI's mailed links (service.connect.continue_links)
    console: Any = None  # the staff's people, sessions and sign-in links (service.console)
    # The process's one LISTEN connection (PostgreSQL; None on SQLite): the worker, the API
    # keys and the token memory subscribe their channels on it (adapters.wakeup).
    listener: Any = None
    erasure: Any = None  # forgetting a connection's people (SPEC §14, service.erasure)

    @property
    def followers(self) -> list[Any]:
        """Every follower of the log (service.follower), for readiness and the CLI."""
        found = [self.projection.follower, self.webhooks.outbox.follower]
        return found + ([self.mail.outbox.follower] if self.mail is not None else [])

    def close(self) -> None:
        if self.webhooks is not None:
            self.webhooks.close()  # waits for sends in flight
        if self.credentials is not None:
            self.credentials.close()  # writes the access log's buffer
        self.api_keys.close()
        if self.listener is not None:
            self.listener.stop()
        self.amazon.close()
        self.app.close()


def amazon_settings(settings: Settings) -> AmazonSettings:
    amazon = _amazon_settings(settings)
    if settings.lwa_token_url:
        amazon = replace(amazon, lwa_token_url=settings.lwa_token_url)
    if settings.ads_token_urls:
        amazon = replace(
            amazon, ads_token_urls={**amazon.ads_token_urls, **settings.ads_token_urls}
        )
    return amazon


def _amazon_settings(settings: Settings) -> AmazonSettings:
    redirect = f"{settings.public_base_url}/v1/oauth/amazon/callback"
    ads_redirect = f"{settings.public_base_url}/v1/oauth/amazon-ads/callback"
    if settings.sandbox:
        sandbox = AmazonSettings.sandbox(
            settings.public_base_url, redirect_uri=redirect, ads_redirect_uri=ads_redirect
        )
        return replace(
            sandbox,
            draft=settings.spapi_draft_app,
            lwa_client_secret_expires_at=settings.lwa_client_secret_expires_at,
        )
    return AmazonSettings.production(
        application_id=settings.spapi_application_id,
        lwa_client_id=settings.lwa_client_id,
        lwa_client_secret=settings.lwa_client_secret,
        redirect_uri=redirect,
        ads_redirect_uri=ads_redirect,
        draft=settings.spapi_draft_app,
        ads_client_id=settings.ads_client_id or None,
        ads_client_secret=settings.ads_client_secret or None,
        lwa_older_client_secrets=settings.lwa_older_client_secrets,
        lwa_client_secret_expires_at=settings.lwa_client_secret_expires_at,
    )


def seal_personal_values(
    app: ConnectionsApp, tables: Tables, settings: Settings, clock: Clock
) -> None:
    """Gives the application's mapper the connections' data keys (README, "Erasure"):
    without them, personal values are stored as they are."""
    keys = DataKeys(
        DataKeyRows(tables), settings.data_key_wrapping_keys, now=lambda: iso(clock.now()) or ""
    )
    keys.locate = app.sealing_key_of
    app.mapper.keys = keys  # type: ignore[attr-defined]


def forget_erased(services: Services, connection_id: str) -> None:
    """What this process keeps of an erased connection beyond the aggregate cache (whose
    erasure event clears it): the bodies it rendered, the states its outboxes follow."""
    services.connections.bodies.forget(connection_id)
    services.webhooks.outbox.states.forget(connection_id)
    services.mail.outbox.states.forget(connection_id)


def build(settings: Settings, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    env = settings.eventsourcing_env
    # Before anything is written: an unmigrated database is migrated or refused.
    ensure_migrated(env, migrate=settings.migrate_on_start)
    app = ConnectionsApp(env=env)
    tables_module = importlib.import_module(env["TABLES_MODULE"])
    tables: Tables = tables_module.TABLES_CLASS(app.recorder.datastore)
    waker = Waker()  # rung after every commit in this process (service.workers.worker waits on it)
    app.commit_listeners.append(waker.wake)
    channel = getattr(app.recorder, "channel_name", None)  # PostgreSQL's NOTIFY channel
    if channel is not None:
        tables.wake_on(channel)
    listener = PostgresListener.for_recorder(app.recorder)  # started by its first subscriber
    seal_personal_values(app, tables, settings, clock)
    faults = FollowerFaults(tables)
    view = ConnectionsViewTables(tables, owner_email_pepper=settings.owner_email_pepper)
    projection = ConnectionsProjection(app, view, faults, clock)
    amazon = AmazonClient(amazon_settings(settings))
    amazon.credentials = AppCredentials(settings.lwa_client_secret_expires_at, clock=clock.now)
    watch_app_credentials(amazon.credentials)
    amazon.credentials.log_expiry()
    signer = Signer(settings.state_signing_key)
    box = SecretBox(settings.fernet_keys)
    consent = Consent(amazon, signer)
    connections = ConnectionService(
        app,
        view,
        projection,
        clock,
        consent,
        settings.durations,
        seller_central_user_email=settings.seller_central_user_email,
        origins=lambda tenant_id: [origin for _, origin in tables.origins(tenant_id)],
    )
    if listener is not None:  # PostgreSQL: list pages read on the event loop
        connections.async_reads = AsyncReads(
            tables, app.recorder, app.snapshots.recorder if app.snapshots else None
        )
    services = Services(
        settings=settings,
        clock=clock,
        app=app,
        tables=tables,
        view=view,
        projection=projection,
        connections=connections,
        callbacks=OAuthCallbacks(connections, consent, amazon, box),
        api_keys=ApiKeys(tables, clock, listener),
        amazon=amazon,
        box=box,
        audit=Audit(app, view, projection, EventPositions(settings.event_positions_key)),
        waker=waker,
        links=InvitationLinks(settings.invitation_key, settings.public_base_url),
        tenants=TenantProfiles(TenantTables(tables), clock),
        faults=faults,
        listener=listener,
    )
    services.owner_sessions = OwnerSessions(settings.owner_session_key, settings.public_base_url)
    services.continue_links = ContinueLinks(
        settings.owner_session_key, settings.public_base_url, box, SpentLoginLinks(tables)
    )
    erasure_tables = getattr(tables_module, "ERASURE_CLASS", ErasureTables)(tables)
    erasure_tables.opened = lambda body: body if body.startswith("{") else box.decrypt(body)
    services.erasure = Eraser(
        app,
        erasure_tables,
        StoredEvents(
            tables,
            app.recorder.events_table_name,  # type: ignore[attr-defined]
            getattr(app.snapshots.recorder, "events_table_name", None) if app.snapshots else None,
        ),
        clock,
        after=lambda connection_id: forget_erased(services, connection_id),
        followers=lambda: services.followers,
    )
    services.webhooks = build_webhooks(services)
    services.console = build_console(services)  # before mail: its composer makes the links
    services.mail = build_mail(services)
    services.credentials = build_credentials(services)
    # This process's own commits reach its token memory at once, not when PostgreSQL
    # echoes them (service.credentials.memory).
    app.commit_listeners.append(services.credentials.tokens.memory.recorded)
    return services
