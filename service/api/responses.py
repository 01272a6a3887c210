"""Response bodies: what each JSON operation answers, declared for the contract.

The presenters (service.connections.presenters, the routes' `*_json` functions) build
plain dicts; these structs only describe them, in `openapi.yaml` (the routes name them in
`responses=`), so the generated clients get typed models and the contract fuzz test
(tests/api/test_contract_fuzz.py) fails when a presenter drifts from its declaration.
A field that is always there and may be null is `X | None` without a default; a field that
is only sometimes there has a default.
"""

from datetime import datetime
from typing import Any, Literal

import msgspec
from litestar.openapi.datastructures import ResponseSpec

from service.api.schemas import InvitedBy

Region = Literal["na", "eu", "fe"]
Api = Literal["sp-api", "ads"]


def ok(model: Any, description: str, status: int = 200) -> dict[int, ResponseSpec]:
    """`responses=` of a route whose success answer is `model`."""
    return {
        status: ResponseSpec(data_container=model, description=description, generate_examples=False)
    }


# ---------------------------------------------------------------- connections


class Requirements(msgspec.Struct):
    seller_central_user: bool | None
    advertising: bool


class AdvertisingProfile(msgspec.Struct):
    """An Ads profile of the connection's marketplaces (connections made before profiles
    were kept show the chosen profile's id alone)."""

    profile_id: str
    marketplace_id: str | None = None
    country_code: str | None = None
    account_type: str | None = None


class SellerCentral(msgspec.Struct):
    status: str
    user_email: str | None = None
    required_permissions: dict[str, str] | None = None
    invite_expires_at: datetime | None = None


class ErrorDetail(msgspec.Struct):
    """`last_error` or `warning`: the catalogue's code and title, and what happened."""

    code: str
    title: str
    detail: str
    differences: dict[str, Any] | None = None  # SELLER_CENTRAL_PERMISSIONS_INCORRECT


class Connection(msgspec.Struct):
    id: str
    object: Literal["connection"]
    state: str
    version: int
    account_type: Literal["seller", "vendor"]
    region: Region
    marketplace_ids: list[str]
    selling_partner_id: str | None
    selling_partner_id_source: str | None  # "consent" or "import"
    owner_email: str
    invited_by: InvitedBy | None
    return_url: str | None
    metadata: dict[str, str]
    requirements: Requirements
    advertising: str
    advertising_profiles: list[AdvertisingProfile]
    seller_central: SellerCentral | None
    allowed_actions: list[str]
    last_error: ErrorDetail | None
    warning: ErrorDetail | None
    authorized_at: datetime | None
    reauth_due_at: datetime | None
    lapses_at: datetime | None
    invitation_expires_at: datetime | None
    last_attempt_at: datetime | None
    disconnect_reason: str | None
    created_at: datetime
    updated_at: datetime
    # The owner's link (null once disconnected); not on an import's answer.
    invitation_url: str | None = None


class ActionResult(Connection):
    """The connection after an action, with what the action adds: `start_*` a
    `consent_url` and its `expires_at`; `invite_seller_central_user` the user's e-mail and
    the permission matrix; `confirm_seller_central_user` whether it matched."""

    consent_url: str | None = None
    expires_at: datetime | None = None
    seller_central_user_email: str | None = None
    required_permissions: dict[str, str] | None = None
    permissions_verified: bool | None = None


class ConnectionList(msgspec.Struct):
    object: Literal["list"]
    data: list[Connection]
    has_more: bool
    next_cursor: str | None


class Event(msgspec.Struct):
    id: str
    object: Literal["event"]
    connection_id: str
    version: int
    type: str
    occurred_at: datetime
    actor: str | None
    request_id: str | None
    correlation_id: str | None
    data: dict[str, Any]


class EventList(msgspec.Struct):
    object: Literal["list"]
    data: list[Event]
    has_more: bool
    next_cursor: int | None


class GuideError(msgspec.Struct):
    code: str
    title: str
    detail: str
    message: str
    remediation: list[str]
    retryable: bool
    differences: dict[str, Any] | None = None


class Support(msgspec.Struct):
    connection_id: str
    selling_partner_id: str | None
    last_attempt_at: datetime | None
    region: Region
    marketplace_ids: list[str]


class Guide(msgspec.Struct):
    object: Literal["guide"]
    connection_id: str
    state: str
    who_acts: str
    next_steps: list[str]
    allowed_actions: list[str]
    last_error: GuideError | None
    support: Support


class Email(msgspec.Struct):
    id: str
    object: Literal["email"]
    connection_id: str
    event_id: str
    kind: str
    to: str
    subject: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime | None
    sent_at: datetime | None


class EmailList(msgspec.Struct):
    object: Literal["list"]
    data: list[Email]
    has_more: bool


# ---------------------------------------------------------------- credentials


class AccessToken(msgspec.Struct):
    object: Literal["access_token"]
    api: Api
    access_token: str
    token_type: Literal["bearer"]
    expires_at: datetime
    selling_partner_id: str | None
    region: Region
    endpoint: str
    marketplace_ids: list[str]
    client_id: str | None = None  # ads only
    profiles: list[AdvertisingProfile] | None = None  # ads only


class AccessLogEntry(msgspec.Struct):
    id: str
    object: Literal["access_log_entry"]
    connection_id: str
    at: datetime
    api_key_id: str | None
    api: Api
    kind: str
    method: str
    operation: str
    status: int
    outcome: str
    duration_ms: float
    request_id: str | None
    amazon_request_id: str | None


class AccessLog(msgspec.Struct):
    object: Literal["list"]
    data: list[AccessLogEntry]
    has_more: bool
    next_cursor: str | None
    retention_days: int
    generated_at: datetime


# ---------------------------------------------------------------- webhooks


class WebhookEndpoint(msgspec.Struct):
    id: str
    object: Literal["webhook_endpoint"]
    url: str
    description: str | None
    event_types: list[str]
    enabled: bool
    status: Literal["enabled", "disabled"]
    disabled_reason: str | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookEndpointWithSecret(WebhookEndpoint):
    """An endpoint as created or rotated: its signing secret, shown this once."""

    secret: str


class WebhookEndpointList(msgspec.Struct):
    object: Literal["list"]
    data: list[WebhookEndpoint]
    has_more: bool
    next_cursor: str | None


class WebhookEndpointDeleted(msgspec.Struct):
    id: str
    object: Literal["webhook_endpoint"]
    deleted: bool


class WebhookAttempt(msgspec.Struct):
    id: str
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    response_body: str | None
    error: str | None


class WebhookDelivery(msgspec.Struct):
    id: str
    object: Literal["webhook_delivery"]
    endpoint_id: str
    event_id: str
    event_type: str
    origin: str
    status: Literal["pending", "succeeded", "failed"]
    attempt_count: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    created_at: datetime
    updated_at: datetime
    attempts: list[WebhookAttempt]


class WebhookDeliveryList(msgspec.Struct):
    object: Literal["list"]
    data: list[WebhookDelivery]
    has_more: bool
    next_cursor: str | None


class WebhookReplay(msgspec.Struct):
    object: Literal["webhook_replay"]
    endpoint_id: str
    from_: datetime = msgspec.field(name="from")
    to: datetime
    deliveries_created: int


# ---------------------------------------------------------------- audit


class PositionedEvent(Event):
    """An event of the tenant's feed, with its opaque `position` (GET /v1/events?after=)."""

    position: int


class PositionedEventList(msgspec.Struct):
    object: Literal["list"]
    data: list[PositionedEvent]
    has_more: bool
    next_after: int


class BrokenLink(msgspec.Struct):
    version: int
    reason: str


class ChainReport(msgspec.Struct):
    object: Literal["audit"]
    connection_id: str
    ok: bool
    versions: int
    head: str
    first_broken_version: int | None
    broken: list[BrokenLink]


class Rebuild(msgspec.Struct):
    object: Literal["rebuild"]
    projections: list[str]
    events_applied: int


# ---------------------------------------------------------------- reference


class MachineState(msgspec.Struct):
    name: str
    meaning: str
    who_acts: str


class Transition(msgspec.Struct):
    """One trigger from one state (`source` null: the create); `internal` ones keep the
    state (the advertising track, reminders, warnings)."""

    trigger: str
    source: str | None
    dest: str
    guards: list[str]
    public: bool | None = None  # not on the create
    internal: bool | None = None


class StateMachine(msgspec.Struct):
    initial: str
    final: list[str]
    states: list[MachineState]
    transitions: list[Transition]


class CatalogueEntry(msgspec.Struct):
    code: str
    title: str
    message: str
    remediation: list[str]
    who_acts: str
    retryable: bool
    http_status: int
    source_message: str | None
    source: str | None
    recognised_from: str
    shown_on: str
    http_status_when: dict[str, int]


class Catalogue(msgspec.Struct):
    object: Literal["list"]
    data: list[CatalogueEntry]
