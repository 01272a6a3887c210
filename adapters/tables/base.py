"""`Tables`: what the service holds of its own tables (`services.tables`), and what each
dialect (`sqlite`, `postgres`) subclasses.

It is the dialect (`dialect`) with the small families the service reaches through it
directly: API keys, tenant origins and idempotency keys, each in its own module. The
larger families wrap a `Tables` instead (`read_model`, `webhooks`, `mail_outbox`,
`access_tokens`, `access_log`, `follower_faults`, `refresh_checks`, `tenant_settings`).
"""

from __future__ import annotations

from adapters.tables.api_keys import ApiKeyRows
from adapters.tables.idempotency import IdempotencyKeyRows
from adapters.tables.tenant_origins import TenantOriginRows


class Tables(ApiKeyRows, TenantOriginRows, IdempotencyKeyRows):
    pass
