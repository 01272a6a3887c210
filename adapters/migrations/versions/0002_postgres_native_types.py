"""PostgreSQL: timestamps become `timestamptz` and JSON documents `jsonb`, data and all.

A DBA querying the tables gets instants and JSON rather than strings. SQLite keeps TEXT
(it has no such types; ISO-8601 UTC text sorts as time there). The service still reads
and writes the same ISO text and JSON text: `adapters.postgres_tables` loads these types
back as text. Left as TEXT on purpose: bodies that must stay byte-for-byte what was sent
or answered (`webhook_events.body` is what the signature covers, `idempotency_keys.body`
is replayed as it was, `webhook_attempts.response_body` is whatever a receiver said), and
space-separated lists (`scopes`, `event_types`).

Revision 0002, after 0001.
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIMESTAMPS = {
    "api_keys": ("created_at", "last_used_at", "revoked_at"),
    "idempotency_keys": ("created_at",),
    "connections_view": ("created_at", "updated_at", "reauth_due_at", "next_due_at"),
    "events_index": ("occurred_at",),
    "tenant_origins": ("created_at",),
    "webhook_endpoints": (
        "previous_secret_expires_at",
        "failing_since",
        "created_at",
        "updated_at",
    ),
    "webhook_events": ("occurred_at",),
    "webhook_deliveries": ("next_attempt_at", "lease_until", "created_at", "updated_at"),
    "webhook_attempts": ("attempted_at",),
    "refresh_checks": ("checked_at", "unavailable_since"),
}
DOCUMENTS = {
    "connections_view": ("document",),
    "events_index": ("document",),
    "idempotency_keys": ("headers",),
}
# Back to the exact text the service wrote before: fixed-width microseconds, +00:00.
_AS_TEXT = "to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for table in sorted(TIMESTAMPS.keys() | DOCUMENTS.keys()):
        changes = [
            f"ALTER COLUMN {c} TYPE timestamptz USING {c}::timestamptz"
            for c in TIMESTAMPS.get(table, ())
        ] + [f"ALTER COLUMN {c} TYPE jsonb USING {c}::jsonb" for c in DOCUMENTS.get(table, ())]
        op.execute(f"ALTER TABLE {table} " + ", ".join(changes))  # one rewrite per table


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for table in sorted(TIMESTAMPS.keys() | DOCUMENTS.keys()):
        changes = [
            f"ALTER COLUMN {c} TYPE text USING {_AS_TEXT.format(c=c)}"
            for c in TIMESTAMPS.get(table, ())
        ] + [f"ALTER COLUMN {c} TYPE text USING {c}::text" for c in DOCUMENTS.get(table, ())]
        op.execute(f"ALTER TABLE {table} " + ", ".join(changes))
