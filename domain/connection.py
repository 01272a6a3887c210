"""The Connection aggregate: one seller account being connected to one integrator.

Public methods are commands: they ask the lifecycle machine whether the trigger is allowed,
validate, and raise; then they record one event. Each event is declared once, as a nested
class (its topic stays stable across renames) whose `apply` only assigns state, because it
runs again on every replay; the state it leads to is the lifecycle machine's answer for its
`trigger`, set in one place (`Event.mutate`). Time always comes in from the caller.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import lifecycle as lc
from domain.chain import GENESIS, seal
from domain.errors import entry
from domain.exceptions import (
    ApiAuthorizationRequired,
    DomainError,
    InvalidTransition,
    ValidationFailed,
)
from domain.marketplaces import REGIONS
from domain.permissions import REQUIRED_SC_PERMISSIONS, permission_differences
from domain.personal import erased

Meta = dict[str, Any]

# The provenance of a connection's `selling_partner_id` (SPEC §12).
CONSENT, IMPORT = "consent", "import"


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


_IMMUTABLE = (str, int, float, bool, type(None), datetime, UUID)


class Connection(Aggregate):
    # When Amazon refused the stored authorization (invalid_grant), and every Ads profile
    # of the connection's marketplaces: class defaults, so snapshots taken before these
    # fields existed load without them.
    access_revoked_at: datetime | None = None
    # When the connection's personal values were erased (SPEC §14), and why; a class
    # default, so snapshots taken before erasure existed load without it.
    erased_at: datetime | None = None
    advertising_profiles: ClassVar[tuple[dict[str, Any], ...]] = ()
    # Where `selling_partner_id` came from (SPEC §12): "consent" when Amazon's callback
    # carried it, "import" when a tenant supplied it; None while there is none.
    # Version 1 snapshots (the store's and the read model's) were taken before the field
    # existed: the upcaster below derives it.
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        # Only an import leaves `invitation_expires_at` empty with a seller known: an
        # import clears it, a consent never does, and no invitation is resent afterwards.
        if state.get("selling_partner_id") is None:
            state["selling_partner_id_source"] = None
        elif state.get("invitation_expires_at") is None:
            state["selling_partner_id_source"] = IMPORT
        else:
            state["selling_partner_id_source"] = CONSENT

    def __deepcopy__(self, memo: dict[int, Any]) -> Connection:
        """deepcopy's result at a third of its cost (87 against 28 us): the state's
        strings, numbers, instants and ids are immutable and shared, its containers
        (lists, dicts, tuples of dicts) copied. A connection is copied out of the
        aggregate cache for each command and read it serves (ConnectionsApp's loader,
        under the library's fast-forward lock in threads). The attributes are read in
        one step (a copy of the dict), so a thread fast-forwarding this connection
        meanwhile cannot make the copy fail halfway; a copy taken without the lock (on
        the event loop, which must not block) may mix two versions, and then looks
        behind (the library sets the version last), which ConnectionsApp checks."""
        copy = object.__new__(type(self))
        memo[id(self)] = copy
        copy.__dict__.update(
            (k, v if isinstance(v, _IMMUTABLE) else deepcopy(v, memo))
            for k, v in self.__dict__.copy().items()
        )
        return copy

    class Event(Aggregate.Event):
        meta: dict[str, Any]  # actor, request_id, correlation_id, and the chain's prev/hash

        # The lifecycle trigger whose transition this event records (None: it records
        # no transition, the state stays), and its webhook and history name.
        trigger: ClassVar[str | None] = None
        kind: ClassVar[str] = ""

        def mutate(self, aggregate: Any) -> Any:
            source = None if aggregate is None else aggregate.state
            aggregate = super().mutate(aggregate)
            if self.trigger is not None:
                aggregate.state = lc.destination(self.trigger, source)
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

    def _record(self, event_class: Any, ctx: Context, **fields: Any) -> None:
        self.trigger_event(event_class, **fields, **_stamp(ctx))

    # ------------------------------------------------------------------- events

    class Invited(Event, Aggregate.Created):
        trigger, kind = lc.CREATE_TRIGGER, "invited"
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

        def apply(self, c: Any) -> None:
            c.tenant_id = self.tenant_id
            c.owner_email = self.owner_email
            c.region = self.region
            c.marketplace_ids = self.marketplace_ids
            c.account_type = self.account_type
            c.requires_seller_central_user = self.requires_seller_central_user
            c.requires_advertising = self.requires_advertising
            c.invited_by = self.invited_by
            c.return_url = self.return_url
            c.metadata = self.metadata
            c.invitation_expires_at = self.invitation_expires_at
            c.advertising = "pending" if self.requires_advertising else "not_required"
            c.advertising_profile_id = None
            c.selling_partner_id = None
            c.selling_partner_id_source = None
            c.refresh_token_encrypted = None
            c.ads_refresh_token_encrypted = None
            c.authorization = None  # the open consent attempt
            c.advertising_authorization = None
            c.seller_central = None
            c.last_error = None
            c.warning = None
            c.last_attempt_at = None
            c.authorized_at = None
            c.reauth_due_at = None
            c.lapses_at = None
            c.reminders_sent = []
            c.disconnect_reason = None

    class InvitationResent(Event):
        trigger, kind = "resend_invitation", "invitation_resent"
        invitation_expires_at: datetime

        def apply(self, c: Any) -> None:
            c.invitation_expires_at = self.invitation_expires_at

    class AuthorizationStarted(Event):
        trigger, kind = "start_authorization", "authorization_started"
        attempt_id: str
        expires_at: datetime

        def apply(self, c: Any) -> None:
            c.authorization = {"attempt_id": self.attempt_id, "expires_at": self.expires_at}
            c.last_attempt_at = self.timestamp

    class AuthorizationCompleted(Event):
        trigger, kind = "complete_authorization", "api_authorized"
        # Version 1 had no `selling_partner_id_source`: a consent's id is Amazon's word.
        class_version = 2
        selling_partner_id: str
        selling_partner_id_source: str
        refresh_token_encrypted: str
        reauth_due_at: datetime
        lapses_at: datetime

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["selling_partner_id_source"] = CONSENT

        def apply(self, c: Any) -> None:
            c.selling_partner_id = self.selling_partner_id
            c.selling_partner_id_source = self.selling_partner_id_source
            _authorized(c, self)

    class AuthorizationImported(Event):
        trigger, kind = "import_authorization", "authorization_imported"
        # Version 1 had no `selling_partner_id_source`: an import's id is the tenant's word.
        class_version = 2
        selling_partner_id: str
        selling_partner_id_source: str
        refresh_token_encrypted: str
        authorized_at: datetime
        reauth_due_at: datetime
        lapses_at: datetime

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["selling_partner_id_source"] = IMPORT

        def apply(self, c: Any) -> None:
            c.selling_partner_id = self.selling_partner_id
            c.selling_partner_id_source = self.selling_partner_id_source
            c.invitation_expires_at = None
            _authorized(c, self)
            # The owner authorized elsewhere, earlier: the clock runs from then.
            c.authorized_at = c.last_attempt_at = self.authorized_at

    class AuthorizationFailed(Event):
        trigger, kind = "fail_authorization", "authorization_failed"
        error: dict[str, Any]

        def apply(self, c: Any) -> None:
            c.authorization = None
            c.last_error = self.error
            c.last_attempt_at = self.timestamp

    class SellerCentralUserInvited(Event):
        trigger, kind = "invite_seller_central_user", "seller_central_user_invited"
        email: str
        required_permissions: dict[str, str]
        expires_at: datetime

        def apply(self, c: Any) -> None:
            c.seller_central = {
                "user_email": self.email,
                "required_permissions": self.required_permissions,
                "invite_expires_at": self.expires_at,
                "status": "invited",
            }
            c.last_error = None

    class SellerCentralPermissionsVerified(Event):
        trigger, kind = "confirm_seller_central_user", "permissions_verified"
        permissions: dict[str, str]

        def apply(self, c: Any) -> None:
            c.seller_central = {**(c.seller_central or {}), "status": "verified"}
            c.last_error = None

    class SellerCentralPermissionsRejected(Event):
        # confirm_seller_central_user found differences: no transition, the state stays.
        kind = "permissions_incorrect"
        permissions: dict[str, str]
        error: dict[str, Any]

        def apply(self, c: Any) -> None:
            c.last_error = self.error

    class SellerCentralAuthorizationFailed(Event):
        trigger, kind = "fail_seller_central_authorization", "seller_central_authorization_failed"
        error: dict[str, Any]

        def apply(self, c: Any) -> None:
            # SP-API access stays untouched: only the Seller Central track failed
            # (ChannelAdvisor).
            c.last_error = self.error

    class SellerCentralInviteExpired(Event):
        trigger, kind = "expire_seller_central_invite", "seller_central_invite_expired"
        error: dict[str, Any]

        def apply(self, c: Any) -> None:
            c.seller_central = {**(c.seller_central or {}), "status": "expired"}
            c.last_error = self.error

    class AdvertisingAuthorizationStarted(Event):
        trigger, kind = "start_advertising_authorization", "advertising_authorization_started"
        attempt_id: str
        expires_at: datetime

        def apply(self, c: Any) -> None:
            c.advertising_authorization = {
                "attempt_id": self.attempt_id,
                "expires_at": self.expires_at,
            }
            if c.advertising != "connected":
                c.advertising = "pending"

    class AdvertisingConnected(Event):
        trigger, kind = "complete_advertising_authorization", "advertising_connected"
        # Version 1 kept the chosen profile alone; version 2 also every Ads profile of the
        # connection's marketplaces (SPEC §9 `advertising_profiles`), the chosen one first.
        class_version = 2
        profile_id: str
        refresh_token_encrypted: str
        profiles: list[dict[str, Any]]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["profiles"] = []

        def apply(self, c: Any) -> None:
            c.advertising = "connected"
            c.advertising_profile_id = self.profile_id
            c.advertising_profiles = list(self.profiles)
            c.ads_refresh_token_encrypted = self.refresh_token_encrypted
            c.advertising_authorization = None
            if c.last_error and c.last_error["code"].startswith("ADVERTISING_"):
                c.last_error = None

    class AdvertisingFailed(Event):
        trigger, kind = "fail_advertising_authorization", "advertising_failed"
        error: dict[str, Any]

        def apply(self, c: Any) -> None:
            c.advertising = "failed"
            c.advertising_authorization = None
            c.last_error = self.error

    class Activated(Event):
        trigger, kind = "activate", "activated"

        def apply(self, c: Any) -> None:
            c.last_error = None

    class ReauthMarkedDue(Event):
        trigger, kind = "mark_reauth_due", "reauth_due"
        error: dict[str, Any] | None

        def apply(self, c: Any) -> None:
            if self.error is not None:
                c.last_error = self.error
                if self.error["code"] == "ACCESS_REVOKED":
                    c.access_revoked_at = self.timestamp

    class ReauthReminded(Event):
        trigger, kind = "remind_reauthorization", "reauth_reminder"
        days_left: int

        def apply(self, c: Any) -> None:
            c.reminders_sent = [*c.reminders_sent, self.days_left]

    class Lapsed(Event):
        trigger, kind = "lapse", "reauthorization_required"
        error: dict[str, Any]

        def apply(self, c: Any) -> None:
            c.last_error = self.error

    class ReauthorizationStarted(Event):
        trigger, kind = "start_reauthorization", "reauthorization_started"
        attempt_id: str
        expires_at: datetime

        def apply(self, c: Any) -> None:
            c.authorization = {"attempt_id": self.attempt_id, "expires_at": self.expires_at}
            c.last_attempt_at = self.timestamp

    class Reauthorized(Event):
        trigger, kind = "complete_reauthorization", "reauthorized"
        refresh_token_encrypted: str
        reauth_due_at: datetime
        lapses_at: datetime

        def apply(self, c: Any) -> None:
            _authorized(c, self)

    class ReauthorizationFailed(Event):
        trigger, kind = "fail_reauthorization", "reauthorization_failed"
        error: dict[str, Any]

        def apply(self, c: Any) -> None:
            c.authorization = None
            c.last_error = self.error
            c.last_attempt_at = self.timestamp

    class WarningRecorded(Event):
        trigger, kind = "record_warning", "warning"
        warning: dict[str, Any]

        def apply(self, c: Any) -> None:
            c.warning = self.warning
            if self.warning["code"] == "ACCESS_REVOKED":  # refused before activation (§2)
                c.access_revoked_at = self.timestamp

    class Disconnected(Event):
        # Recorded by disconnect and by expire_invitation: both end in `disconnected`.
        trigger, kind = "disconnect", "disconnected"
        # Version 1 had no `error`; the upcaster lets old events load without rewriting
        # history (and without breaking their hash, which covers the recorded shape).
        class_version = 2
        reason: str
        error: dict[str, Any] | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["error"] = None

        def apply(self, c: Any) -> None:
            c.disconnect_reason = self.reason
            c.authorization = None
            c.advertising_authorization = None
            if self.error is not None:
                c.last_error = self.error

    class Erased(Event):
        # The connection's personal values are forgotten (SPEC §14): their key is
        # destroyed after this event is stored. `redacted` maps the version of each event
        # recorded before erasure existed (personal values in plaintext, hashed as such)
        # to the hash of its redacted form, which replaces it in the store: sealed here,
        # the chain still proves what every such event holds (domain.chain).
        trigger, kind = "erase", "erased"
        reason: str
        redacted: dict[str, str]

        def apply(self, c: Any) -> None:
            c.erased_at = self.timestamp
            state = erased(vars(c))
            for key in ("owner_email", "invited_by", "metadata", "last_error", "warning"):
                setattr(c, key, state[key])

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
        known = REGIONS.get(region, {})
        foreign = [m for m in marketplace_ids if m not in known]
        if foreign:
            raise ValidationFailed(
                f"marketplace_ids {', '.join(foreign)} are not marketplaces of region "
                f"'{region}' (known: {', '.join(known)})."
            )
        if requires_seller_central_user is None:
            # Vendors have no Seller Central account to add a user to (Perpetua).
            requires_seller_central_user = account_type == "seller"
        return cls._create(
            cls.Invited,
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

    # ------------------------------------------------------------------ queries

    @property
    def allowed_actions(self) -> list[str]:
        return lc.allowed_actions(self)

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
        self._record(
            self.InvitationResent, ctx, invitation_expires_at=ctx.at + durations.invitation_ttl
        )

    def start_authorization(self, ctx: Context, attempt_id: str, expires_at: datetime) -> None:
        self._check("start_authorization")
        self._record(self.AuthorizationStarted, ctx, attempt_id=attempt_id, expires_at=expires_at)

    def complete_authorization(
        self,
        ctx: Context,
        *,
        selling_partner_id: str,
        refresh_token_encrypted: str,
        durations: Durations = Durations(),
    ) -> None:
        self._check("complete_authorization")
        self._record(
            self.AuthorizationCompleted,
            ctx,
            selling_partner_id=selling_partner_id,
            selling_partner_id_source=CONSENT,
            refresh_token_encrypted=refresh_token_encrypted,
            **durations.yearly_clock(ctx.at),
        )

    def import_authorization(
        self,
        ctx: Context,
        *,
        selling_partner_id: str,
        refresh_token_encrypted: str,
        authorized_at: datetime,
        durations: Durations = Durations(),
    ) -> None:
        """An authorization made elsewhere; its yearly clock runs from when it was given."""
        self._check("import_authorization")
        if authorized_at > ctx.at:
            raise DomainError(
                "authorized_at is in the future.", code="VALIDATION_ERROR", field="authorized_at"
            )
        clock = durations.yearly_clock(authorized_at)
        if clock["lapses_at"] <= ctx.at:
            raise DomainError(
                "This authorization is more than a year old: Amazon's yearly re-authorization "
                "has lapsed, so the owner must authorize again.",
                code="REAUTHORIZATION_REQUIRED",
                situation="import",
            )
        self._record(
            self.AuthorizationImported,
            ctx,
            selling_partner_id=selling_partner_id,
            selling_partner_id_source=IMPORT,
            refresh_token_encrypted=refresh_token_encrypted,
            authorized_at=authorized_at,
            **clock,
        )

    def fail_authorization(self, ctx: Context, code: str, detail: str | None = None) -> None:
        self._check("fail_authorization")
        self._record(self.AuthorizationFailed, ctx, error=error_of(code, detail))

    def invite_seller_central_user(
        self, ctx: Context, email: str, durations: Durations = Durations()
    ) -> None:
        self._check("invite_seller_central_user")
        self._record(
            self.SellerCentralUserInvited,
            ctx,
            email=email,
            required_permissions=dict(REQUIRED_SC_PERMISSIONS),
            expires_at=ctx.at + durations.sc_invite_ttl,
        )

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
            self._record(
                self.SellerCentralPermissionsRejected, ctx, permissions=permissions, error=error
            )
            return False
        self._record(self.SellerCentralPermissionsVerified, ctx, permissions=permissions)
        return True

    def fail_seller_central_authorization(self, ctx: Context, detail: str | None = None) -> None:
        self._check("fail_seller_central_authorization")
        error = error_of("SELLER_CENTRAL_AUTHORIZATION_FAILED", detail)
        self._record(self.SellerCentralAuthorizationFailed, ctx, error=error)

    def expire_seller_central_invite(self, ctx: Context) -> None:
        self._check("expire_seller_central_invite")
        error = error_of("SELLER_CENTRAL_INVITE_EXPIRED")
        self._record(self.SellerCentralInviteExpired, ctx, error=error)

    def start_advertising_authorization(
        self, ctx: Context, attempt_id: str, expires_at: datetime
    ) -> None:
        self._check("start_advertising_authorization")
        self._record(
            self.AdvertisingAuthorizationStarted, ctx, attempt_id=attempt_id, expires_at=expires_at
        )

    def complete_advertising_authorization(
        self,
        ctx: Context,
        profile_id: str,
        refresh_token_encrypted: str,
        profiles: list[dict[str, Any]] | None = None,
    ) -> None:
        self._check("complete_advertising_authorization")
        self._record(
            self.AdvertisingConnected,
            ctx,
            profile_id=profile_id,
            refresh_token_encrypted=refresh_token_encrypted,
            profiles=list(profiles or [{"profile_id": profile_id}]),
        )

    def fail_advertising_authorization(
        self, ctx: Context, code: str, detail: str | None = None
    ) -> None:
        self._check("fail_advertising_authorization")
        self._record(self.AdvertisingFailed, ctx, error=error_of(code, detail))

    def activate(self, ctx: Context) -> None:
        self._check("activate")
        self._record(self.Activated, ctx)

    def mark_reauth_due(
        self, ctx: Context, code: str | None = None, detail: str | None = None
    ) -> None:
        self._check("mark_reauth_due")
        self._record(self.ReauthMarkedDue, ctx, error=error_of(code, detail) if code else None)

    def remind_reauthorization(self, ctx: Context, days_left: int) -> None:
        self._check("remind_reauthorization")
        self._record(self.ReauthReminded, ctx, days_left=days_left)

    def lapse(self, ctx: Context) -> None:
        self._check("lapse")
        self._record(self.Lapsed, ctx, error=error_of("REAUTHORIZATION_REQUIRED"))

    def start_reauthorization(self, ctx: Context, attempt_id: str, expires_at: datetime) -> None:
        self._check("start_reauthorization")
        self._record(self.ReauthorizationStarted, ctx, attempt_id=attempt_id, expires_at=expires_at)

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
        self._record(
            self.Reauthorized,
            ctx,
            refresh_token_encrypted=refresh_token_encrypted,
            **durations.yearly_clock(ctx.at),
        )

    def fail_reauthorization(self, ctx: Context, code: str, detail: str | None = None) -> None:
        self._check("fail_reauthorization")
        self._record(self.ReauthorizationFailed, ctx, error=error_of(code, detail))

    def record_warning(self, ctx: Context, code: str, detail: str | None = None) -> None:
        self._check("record_warning")
        self._record(self.WarningRecorded, ctx, warning=error_of(code, detail))

    def disconnect(self, ctx: Context, reason: str) -> None:
        self._check("disconnect")
        self._record(self.Disconnected, ctx, reason=reason, error=None)

    def erase(self, ctx: Context, reason: str, redacted: dict[str, str]) -> None:
        """Only a disconnected connection, once (the caller answers a second request
        with the erased connection, recording nothing)."""
        self._check("erase")
        self._record(self.Erased, ctx, reason=reason, redacted=dict(redacted))

    def expire_invitation(self, ctx: Context) -> None:
        self._check("expire_invitation")
        error = error_of("INVITATION_EXPIRED")
        self._record(self.Disconnected, ctx, reason="invitation_expired", error=error)


def _authorized(c: Any, e: Any) -> None:
    """A (re-)authorization: the new refresh token, and Amazon's yearly clock restarted."""
    c.refresh_token_encrypted = e.refresh_token_encrypted
    c.access_revoked_at = None
    c.authorized_at = e.timestamp
    c.reauth_due_at = e.reauth_due_at
    c.lapses_at = e.lapses_at
    c.reminders_sent = []
    c.authorization = None
    c.last_error = None
    c.warning = None
    c.last_attempt_at = e.timestamp


def _stamp(ctx: Context) -> dict[str, Any]:
    meta = {"actor": ctx.actor, "request_id": ctx.request_id, "correlation_id": ctx.correlation_id}
    return {"meta": meta, "timestamp": ctx.at}


# The webhook and history name of each event (`connection.<type>`), stable across renames.
EVENT_TYPES: dict[type, str] = {
    cls: cls.kind
    for cls in vars(Connection).values()
    if isinstance(cls, type) and issubclass(cls, Connection.Event) and cls.kind
}

# Event fields that hold ciphertext: never shown in history, webhooks or exports.
SECRET_FIELDS = frozenset({"refresh_token_encrypted"})


def event_type(domain_event: Any) -> str:
    return EVENT_TYPES[type(domain_event)]
