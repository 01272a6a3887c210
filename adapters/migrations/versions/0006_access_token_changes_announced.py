"""PostgreSQL announces every change of a stored access token (its ciphertext or expiry,
or the row's removal) on `<schema>_access_token_changed`, with the connection id, from a
trigger: whatever changes the row (the service, an operator's UPDATE), processes that keep
the decrypted token in memory (service.credentials.memory) hear of it in the transaction
that made the change. SQLite has no notifications: its processes check the row instead.

Revision 0006, after 0005.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The channel is the schema's (adapters.postgres_tables.access_token_channel): a channel
    # name is an identifier, at most 63 bytes.
    op.execute(
        """
        CREATE FUNCTION access_token_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify(
                left(TG_TABLE_SCHEMA || '_access_token_changed', 63), OLD.connection_id
            );
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER access_token_changed AFTER UPDATE ON access_tokens FOR EACH ROW "
        "WHEN (OLD.token_encrypted IS DISTINCT FROM NEW.token_encrypted "
        "OR OLD.expires_at IS DISTINCT FROM NEW.expires_at) "
        "EXECUTE FUNCTION access_token_changed()"
    )
    op.execute(
        "CREATE TRIGGER access_token_removed AFTER DELETE ON access_tokens FOR EACH ROW "
        "EXECUTE FUNCTION access_token_changed()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER access_token_removed ON access_tokens")
    op.execute("DROP TRIGGER access_token_changed ON access_tokens")
    op.execute("DROP FUNCTION access_token_changed()")
