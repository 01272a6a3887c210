"""The Connection aggregate: one seller account being connected to one integrator.

Public methods are commands: they ask the lifecycle machine whether the trigger is allowed,
validate, and raise; then they call a private `@event` method that only assigns state,
because that body runs again on every replay. Time always comes in from the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.domain import Aggregate, event

from domain import lifecycle as lc
from domain.chain import GENESIS, seal
from domain.errors import REQUIRED_SC_PERMISSIONS, entry, permission_differences
from domain.exceptions import ApiAuthorizationRequired, DomainError, InvalidTransition

Meta = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Context:
    """Who acts, on behalf of which request, and when (from the clock port)."""

    actor: str
    at: datetime
    request_id: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True, slots=True)
class Durations:
    """The lifecycle's deadlines; the service configures them, the events record results."""

    authorization_window: timedelta = timedelta(minutes=15)
    invitation_ttl: timedelta = timedelta(days=14)
    sc_invite_ttl: timedelta = timedelta(days=14)
    reauth_interval: timedelta = timedelta(days=365)
    reauth_notice: timedelta = timedelta(days=30)

    def yearly_clock(self, authorized_at: datetime) -> dict[str, datetime]:
        """Amazon's yearly re-confirmation, counted from an authorization."""
        lapses_at = authorized_at + self.reauth_interval
        return {"reauth_due_at": lapses_at - self.reauth_notice, "lapses_at": lapses_at}


def error_of(code: str, detail: str | None = None, **extra: Any) -> dict[str, Any]:
    """A `last_error` value: the catalogue code, its title, and what happened this time."""
    return {
        "code": code,
        "title": entry(code).title,
        "detail": detail or entry(code).message,
        **extra,
    }


class Connection(Aggregate):
    class Event(Aggregate.Event):
        meta: dict[str, Any]  # actor, request_id, correlation_id, and the chain's prev/hash

        def mutate(self, aggregate: Any) -> Any:
            aggregate = super().mutate(aggregate)
            aggregate.chain_head = self.meta.get("hash", GENESIS)
            return aggregate

    # Every event is sealed into the connection's hash chain as it is triggered.
    @classmethod
    def _create(cls, event_class: Any, *, id: Any = None, **kwargs: Any) -> Any:
        id = id or cls.create_id()
        kwargs["meta"] = seal(event_class.__qualname__, id, cls.INITIAL_VERSION, GENESIS, kwargs)
        return super()._create(event_class, id=id, **kwargs)

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        kwargs["meta"] = seal(
            event_class.__qualname__, self.id, self.version + 1, self.chain_head, kwargs
        )
        super().trigger_event(event_class, **kwargs)

    class Invited(Event, Aggregate.Created):
        tenant_id: str
        owner_email: str
        region: str
        marketplace_ids: list[str]
        account_type: str
        requires_seller_central_user: bool
        requires_advertising: bool
        invited_by: dict[str, Any] | None
        return_url: str | None
        metadata: dict[str, str]
        invitation_expires_at: datetime

    class InvitationResent(Event):
        invitation_expires_at: datetime

    class AuthorizationStarted(Event):
        attempt_id: str
        expires_at: datetime

    class AuthorizationCompleted(Event):
        selling_partner_id: str
        refresh_token_encrypted: str
        reauth_due_at: datetime
        lapses_at: datetime

    class AuthorizationFailed(Event):
        error: dict[str, Any]

    class SellerCentralUserInvited(Event):
        email: str
        required_permissions: dict[str, str]
        expires_at: datetime

    class SellerCentralPermissionsVerified(Event):
        permissions: dict[str, str]

    class SellerCentralPermissionsRejected(Event):
        permissions: dict[str, str]
        error: dict[str, Any]

    class SellerCentralAuthorizationFailed(Event):
        error: dict[str, Any]

    class SellerCentralInviteExpired(Event):
        error: dict[str, Any]

    class AdvertisingAuthorizationStarted(Event):
        attempt_id: str
        expires_at: datetime

    class AdvertisingConnected(Event):
        profile_id: str
        refresh_token_encrypted: str

    class AdvertisingFailed(Event):
        error: dict[str, Any]

    class Activated(Event):
        pass

    class ReauthMarkedDue(Event):
        error: dict[str, Any] | None

    class ReauthReminded(Event):
        days_left: int

    class Lapsed(Event):
        error: dict[str, Any]

    class ReauthorizationStarted(Event):
        attempt_id: str
        expires_at: datetime

    class Reauthorized(Event):
        refresh_token_encrypted: str
        reauth_due_at: datetime
        lapses_at: datetime

    class ReauthorizationFailed(Event):
        error: dict[str, Any]

    class WarningRecorded(Event):
        warning: dict[str, Any]

    class Disconnected(Event):
        # Version 1 had no `error`; the upcaster lets old events load without rewriting
        # history (and without breaking their hash, which covers the recorded shape).
        class_version = 2
        reason: str
        error: dict[str, Any] | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["error"] = None

    # ----------------------------------------------------------------- creation

    @classmethod
    def invite(
        cls,
        ctx: Context,
        *,
        tenant_id: str,
        owner_email: str,
        region: str,
        marketplace_ids: list[str],
        account_type: str = "seller",
        requires_seller_central_user: bool | None = None,
        requires_advertising: bool = False,
        invited_by: dict[str, Any] | None = None,
        return_url: str | None = None,
        metadata: dict[str, str] | None = None,
        durations: Durations = Durations(),
    ) -> Connection:
        if requires_seller_central_user is None:
            # Vendors have no Seller Central account to add a user to (Perpetua).
            requires_seller_central_user = account_type == "seller"
        return cls(
            tenant_id=tenant_id,
            owner_email=owner_email,
            region=region,
            marketplace_ids=list(marketplace_ids),
            account_type=account_type,
            requires_seller_central_user=requires_seller_central_user,
            requires_advertising=requires_advertising,
            invited_by=invited_by,
            return_url=return_url,
            metadata=dict(metadata or {}),
            invitation_expires_at=ctx.at + durations.invitation_ttl,
            **_stamp(ctx),
        )

    @event(Invited)
    def __init__(
        self,
        *,
        tenant_id: str,
        owner_email: str,
        region: str,
        marketplace_ids: list[str],
        account_type: str,
        requires_seller_central_user: bool,
        requires_advertising: bool,
        invited_by: dict[str, Any] | None,
        return_url: str | None,
        metadata: dict[str, str],
        invitation_expires_at: datetime,
        meta: Meta,
        timestamp: datetime,
    ) -> None:
        self.tenant_id = tenant_id
        self.owner_email = owner_email
        self.region = region
        self.marketplace_ids = marketplace_ids
        self.account_type = account_type
        self.requires_seller_central_user = requires_seller_central_user
        self.requires_advertising = requires_advertising
        self.invited_by = invited_by
        self.return_url = return_url
        self.metadata = metadata
        self.state = lc.INVITED
        self.invitation_expires_at: datetime | None = invitation_expires_at
        self.advertising = "pending" if requires_advertising else "not_required"
        self.advertising_profile_id: str | None = None
        self.selling_partner_id: str | None = None
        self.refresh_token_encrypted: str | None = None
        self.ads_refresh_token_encrypted: str | None = None
        self.authorization: dict[str, Any] | None = None  # the open consent attempt
        self.advertising_authorization: dict[str, Any] | None = None
        self.seller_central: dict[str, Any] | None = None
        self.last_error: dict[str, Any] | None = None
        self.warning: dict[str, Any] | None = None
        self.last_attempt_at: datetime | None = None
        self.authorized_at: datetime | None = None
        self.reauth_due_at: datetime | None = None
        self.lapses_at: datetime | None = None
        self.reminders_sent: list[int] = []
        self.disconnect_reason: str | None = None

    # ------------------------------------------------------------------ queries

    @property
    def allowed_actions(self) -> list[str]:
        return lc.allowed_actions(self)

    def is_open_attempt(self, attempt_id: str, at: datetime) -> bool:
        """Whether `attempt_id` is the consent attempt now open, and still in its window."""
        auth = self.authorization
        return bool(auth and auth["attempt_id"] == attempt_id and at < auth["expires_at"])

    def _check(self, trigger: str) -> None:
        blocked = lc.failed_guards(trigger, self)
        if blocked is None:
            if trigger == "invite_seller_central_user" and self.state in (
                lc.INVITED,
                lc.OWNER_PENDING,
            ):
                raise ApiAuthorizationRequired(
                    entry("API_AUTHORIZATION_REQUIRED").message,
                    allowed_actions=self.allowed_actions,
                )
            raise InvalidTransition(trigger, self.state, self.allowed_actions)
        if blocked:
            reason = "; ".join(lc.GUARD_EXPLANATIONS[g] for g in blocked)
            raise InvalidTransition(trigger, self.state, self.allowed_actions, reason)

    # ----------------------------------------------------------------- commands

    def resend_invitation(self, ctx: Context, durations: Durations = Durations()) -> None:
        self._check("resend_invitation")
        self._invitation_resent(
            invitation_expires_at=ctx.at + durations.invitation_ttl, **_stamp(ctx)
        )

    @event(InvitationResent)
    def _invitation_resent(
        self,
        invitation_expires_at: datetime,
        meta: Meta,
        timestamp: datetime,
    ) -> None:
        self.invitation_expires_at = invitation_expires_at

    def start_authorization(self, ctx: Context, attempt_id: str, expires_at: datetime) -> None:
        self._check("start_authorization")
        self._authorization_started(attempt_id=attempt_id, expires_at=expires_at, **_stamp(ctx))

    @event(AuthorizationStarted)
    def _authorization_started(
        self,
        attempt_id: str,
        expires_at: datetime,
        meta: Meta,
        timestamp: datetime,
    ) -> None:
        self.state = lc.destination("start_authorization", self)
        self.authorization = {"attempt_id": attempt_id, "expires_at": expires_at}
        self.last_attempt_at = timestamp

    def complete_authorization(
        self,
        ctx: Context,
        *,
        selling_partner_id: str,
        refresh_token_encrypted: str,
        durations: Durations = Durations(),
    ) -> None:
        self._check("complete_authorization")
        self._authorization_completed(
            selling_partner_id=selling_partner_id,
            refresh_token_encrypted=refresh_token_encrypted,
            **durations.yearly_clock(ctx.at),
            **_stamp(ctx),
        )

    @event(AuthorizationCompleted)
    def _authorization_completed(
        self,
        selling_partner_id: str,
        refresh_token_encrypted: str,
        reauth_due_at: datetime,
        lapses_at: datetime,
        meta: Meta,
        timestamp: datetime,
    ) -> None:
        self.state = lc.API_AUTHORIZED
        self.selling_partner_id = selling_partner_id
        self.refresh_token_encrypted = refresh_token_encrypted
        self._start_clock(timestamp, reauth_due_at, lapses_at)

    def fail_authorization(self, ctx: Context, code: str, detail: str | None = None) -> None:
        self._check("fail_authorization")
        self._authorization_failed(error=error_of(code, detail), **_stamp(ctx))

    @event(AuthorizationFailed)
    def _authorization_failed(self, error: dict[str, Any], meta: Meta, timestamp: datetime) -> None:
        self.state = lc.INVITED
        self.authorization = None
        self.last_error = error
        self.last_attempt_at = timestamp

    def invite_seller_central_user(
        self, ctx: Context, email: str, durations: Durations = Durations()
    ) -> None:
        self._check("invite_seller_central_user")
        self._sc_user_invited(
            email=email,
            required_permissions=dict(REQUIRED_SC_PERMISSIONS),
            expires_at=ctx.at + durations.sc_invite_ttl,
            **_stamp(ctx),
        )

    @event(SellerCentralUserInvited)
    def _sc_user_invited(
        self,
        email: str,
        required_permissions: dict[str, str],
        expires_at: datetime,
        meta: Meta,
        timestamp: datetime,
    ) -> None:
        self.state = lc.SC_USER_INVITED
        self.seller_central = {
            "user_email": email,
            "required_permissions": required_permissions,
            "invite_expires_at": expires_at,
            "status": "invited",
        }
        self.last_error = None

    def confirm_seller_central_user(self, ctx: Context, permissions: dict[str, str]) -> bool:
        """Checks the granted matrix; records the verification or the differences.
        Returns whether the permissions were correct."""
        self._check("confirm_seller_central_user")
        differences = permission_differences(permissions)
        if differences:
            detail = "These permission categories differ from what is required: " + ", ".join(
                sorted(differences)
            )
            error = error_of(
                "SELLER_CENTRAL_PERMISSIONS_INCORRECT", detail, differences=differences
            )
            self._sc_permissions_rejected(permissions=permissions, error=error, **_stamp(ctx))
            return False
        self._sc_permissions_verified(permissions=permissions, **_stamp(ctx))
        return True

    @event(SellerCentralPermissionsVerified)
    def _sc_permissions_verified(
        self,
        permissions: dict[str, str],
        meta: Meta,
        timestamp: datetime,
    ) -> None:
        self.state = lc.PERMISSIONS_VERIFIED
        self.seller_central = {**(self.seller_central or {}), "status": "verified"}
        self.last_error = None

    @event(SellerCentralPermissionsRejected)
    def _sc_permissions_rejected(
        self, permissions: dict[str, str], error: dict[str, Any], meta: Meta, timestamp: datetime
    ) -> None:
        self.last_error = error

    def fail_seller_central_authorization(self, ctx: Context, detail: str | None = None) -> None:
        self._check("fail_seller_central_authorization")
        error = error_of("SELLER_CENTRAL_AUTHORIZATION_FAILED", detail)
        self._sc_authorization_failed(error=error, **_stamp(ctx))

    @event(SellerCentralAuthorizationFailed)
    def _sc_authorization_failed(
        self,
        error: dict[str, Any],
        meta: Meta,
        timestamp: datetime,
    ) -> None:
        # SP-API access stays untouched: only the Seller Central track failed (ChannelAdvisor).
        self.last_error = error

    def expire_seller_central_invite(self, ctx: Context) -> None:
        self._check("expire_seller_central_invite")
        self._sc_invite_expired(error=error_of("SELLER_CENTRAL_INVITE_EXPIRED"), **_stamp(ctx))

    @event(SellerCentralInviteExpired)
    def _sc_invite_expired(self, error: dict[str, Any], meta: Meta, timestamp: datetime) -> None:
        self.state = lc.API_AUTHORIZED
        self.seller_central = {**(self.seller_central or {}), "status": "expired"}
        self.last_error = error

    def start_advertising_authorization(
        self, ctx: Context, attempt_id: str, expires_at: datetime
    ) -> None:
        self._check("start_advertising_authorization")
        self._ads_started(attempt_id=attempt_id, expires_at=expires_at, **_stamp(ctx))

    @event(AdvertisingAuthorizationStarted)
    def _ads_started(
        self,
        attempt_id: str,
        expires_at: datetime,
        meta: Meta,
        timestamp: datetime,
    ) -> None:
        self.advertising_authorization = {"attempt_id": attempt_id, "expires_at": expires_at}
        if self.advertising != "connected":
            self.advertising = "pending"

    def is_open_advertising_attempt(self, attempt_id: str, at: datetime) -> bool:
        auth = self.advertising_authorization
        return bool(auth and auth["attempt_id"] == attempt_id and at < auth["expires_at"])

    def complete_advertising_authorization(
        self, ctx: Context, profile_id: str, refresh_token_encrypted: str
    ) -> None:
        self._check("complete_advertising_authorization")
        self._ads_connected(
            profile_id=profile_id, refresh_token_encrypted=refresh_token_encrypted, **_stamp(ctx)
        )

    @event(AdvertisingConnected)
    def _ads_connected(
        self,
        profile_id: str,
        refresh_token_encrypted: str,
        meta: Meta,
        timestamp: datetime,
    ) -> None:
        self.advertising = "connected"
        self.advertising_profile_id = profile_id
        self.ads_refresh_token_encrypted = refresh_token_encrypted
        self.advertising_authorization = None
        if self.last_error and self.last_error["code"].startswith("ADVERTISING_"):
            self.last_error = None

    def fail_advertising_authorization(
        self, ctx: Context, code: str, detail: str | None = None
    ) -> None:
        self._check("fail_advertising_authorization")
        self._ads_failed(error=error_of(code, detail), **_stamp(ctx))

    @event(AdvertisingFailed)
    def _ads_failed(self, error: dict[str, Any], meta: Meta, timestamp: datetime) -> None:
        self.advertising = "failed"
        self.advertising_authorization = None
        self.last_error = error

    def activate(self, ctx: Context) -> None:
        self._check("activate")
        self._activated(**_stamp(ctx))

    @event(Activated)
    def _activated(self, meta: Meta, timestamp: datetime) -> None:
        self.state = lc.ACTIVE
        self.last_error = None

    def mark_reauth_due(
        self, ctx: Context, code: str | None = None, detail: str | None = None
    ) -> None:
        self._check("mark_reauth_due")
        self._reauth_due(error=error_of(code, detail) if code else None, **_stamp(ctx))

    @event(ReauthMarkedDue)
    def _reauth_due(self, error: dict[str, Any] | None, meta: Meta, timestamp: datetime) -> None:
        self.state = lc.REAUTH_DUE
        if error is not None:
            self.last_error = error

    def remind_reauthorization(self, ctx: Context, days_left: int) -> None:
        self._check("remind_reauthorization")
        self._reminded(days_left=days_left, **_stamp(ctx))

    @event(ReauthReminded)
    def _reminded(self, days_left: int, meta: Meta, timestamp: datetime) -> None:
        self.reminders_sent = [*self.reminders_sent, days_left]

    def lapse(self, ctx: Context) -> None:
        self._check("lapse")
        self._lapsed(error=error_of("REAUTHORIZATION_REQUIRED"), **_stamp(ctx))

    @event(Lapsed)
    def _lapsed(self, error: dict[str, Any], meta: Meta, timestamp: datetime) -> None:
        self.last_error = error

    def start_reauthorization(self, ctx: Context, attempt_id: str, expires_at: datetime) -> None:
        self._check("start_reauthorization")
        self._reauth_started(attempt_id=attempt_id, expires_at=expires_at, **_stamp(ctx))

    @event(ReauthorizationStarted)
    def _reauth_started(
        self,
        attempt_id: str,
        expires_at: datetime,
        meta: Meta,
        timestamp: datetime,
    ) -> None:
        self.authorization = {"attempt_id": attempt_id, "expires_at": expires_at}
        self.last_attempt_at = timestamp

    def complete_reauthorization(
        self,
        ctx: Context,
        *,
        selling_partner_id: str,
        refresh_token_encrypted: str,
        durations: Durations = Durations(),
    ) -> None:
        self._check("complete_reauthorization")
        if selling_partner_id != self.selling_partner_id:
            raise DomainError(
                f"The owner re-authorized selling partner {selling_partner_id}, but this "
                f"connection belongs to {self.selling_partner_id}.",
                code="SELLING_PARTNER_MISMATCH",
            )
        self._reauthorized(
            refresh_token_encrypted=refresh_token_encrypted,
            **durations.yearly_clock(ctx.at),
            **_stamp(ctx),
        )

    @event(Reauthorized)
    def _reauthorized(
        self,
        refresh_token_encrypted: str,
        reauth_due_at: datetime,
        lapses_at: datetime,
        meta: Meta,
        timestamp: datetime,
    ) -> None:
        self.state = lc.ACTIVE
        self.refresh_token_encrypted = refresh_token_encrypted
        self._start_clock(timestamp, reauth_due_at, lapses_at)

    def fail_reauthorization(self, ctx: Context, code: str, detail: str | None = None) -> None:
        self._check("fail_reauthorization")
        self._reauth_failed(error=error_of(code, detail), **_stamp(ctx))

    @event(ReauthorizationFailed)
    def _reauth_failed(self, error: dict[str, Any], meta: Meta, timestamp: datetime) -> None:
        self.authorization = None
        self.last_error = error
        self.last_attempt_at = timestamp

    def record_warning(self, ctx: Context, code: str, detail: str | None = None) -> None:
        self._check("record_warning")
        self._warned(warning=error_of(code, detail), **_stamp(ctx))

    @event(WarningRecorded)
    def _warned(self, warning: dict[str, Any], meta: Meta, timestamp: datetime) -> None:
        self.warning = warning

    def disconnect(self, ctx: Context, reason: str) -> None:
        self._check("disconnect")
        self._disconnected(reason=reason, error=None, **_stamp(ctx))

    def expire_invitation(self, ctx: Context) -> None:
        self._check("expire_invitation")
        self._disconnected(
            reason="invitation_expired", error=error_of("INVITATION_EXPIRED"), **_stamp(ctx)
        )

    @event(Disconnected)
    def _disconnected(
        self,
        reason: str,
        error: dict[str, Any] | None,
        meta: Meta,
        timestamp: datetime,
    ) -> None:
        self.state = lc.DISCONNECTED
        self.disconnect_reason = reason
        self.authorization = None
        self.advertising_authorization = None
        if error is not None:
            self.last_error = error

    # ------------------------------------------------------------------ helpers

    def _start_clock(self, at: datetime, reauth_due_at: datetime, lapses_at: datetime) -> None:
        self.authorized_at = at
        self.reauth_due_at = reauth_due_at
        self.lapses_at = lapses_at
        self.reminders_sent = []
        self.authorization = None
        self.last_error = None
        self.warning = None
        self.last_attempt_at = at


def _stamp(ctx: Context) -> dict[str, Any]:
    meta = {"actor": ctx.actor, "request_id": ctx.request_id, "correlation_id": ctx.correlation_id}
    return {"meta": meta, "timestamp": ctx.at}


# The webhook and history name of each event (`connection.<type>`), stable across renames.
EVENT_TYPES: dict[type, str] = {
    Connection.Invited: "invited",
    Connection.InvitationResent: "invitation_resent",
    Connection.AuthorizationStarted: "authorization_started",
    Connection.AuthorizationCompleted: "api_authorized",
    Connection.AuthorizationFailed: "authorization_failed",
    Connection.SellerCentralUserInvited: "seller_central_user_invited",
    Connection.SellerCentralPermissionsVerified: "permissions_verified",
    Connection.SellerCentralPermissionsRejected: "permissions_incorrect",
    Connection.SellerCentralAuthorizationFailed: "seller_central_authorization_failed",
    Connection.SellerCentralInviteExpired: "seller_central_invite_expired",
    Connection.AdvertisingAuthorizationStarted: "advertising_authorization_started",
    Connection.AdvertisingConnected: "advertising_connected",
    Connection.AdvertisingFailed: "advertising_failed",
    Connection.Activated: "activated",
    Connection.ReauthMarkedDue: "reauth_due",
    Connection.ReauthReminded: "reauth_reminder",
    Connection.Lapsed: "reauthorization_required",
    Connection.ReauthorizationStarted: "reauthorization_started",
    Connection.Reauthorized: "reauthorized",
    Connection.ReauthorizationFailed: "reauthorization_failed",
    Connection.WarningRecorded: "warning",
    Connection.Disconnected: "disconnected",
}

# Event fields that hold ciphertext: never shown in history, webhooks or exports.
SECRET_FIELDS = frozenset({"refresh_token_encrypted"})


def event_type(domain_event: Any) -> str:
    return EVENT_TYPES[type(domain_event)]
