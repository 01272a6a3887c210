"""Alembic's environment: runs the pending migrations on the connection it is handed
(see `adapters.migrations.upgrade`), in one transaction, under the migration lock."""

from alembic import context
from sqlalchemy import text

from adapters.migrations.engine import PG_MIGRATION_LOCK

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    version_table_schema=config.attributes.get("schema"),
    transactional_ddl=True,  # SQLite too: see adapters.migrations.engine
    transaction_per_migration=False,  # all pending migrations commit together, or none
    on_version_apply=lambda step, **_: config.attributes["applied"].append(step.up_revision_id),
)
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        # Whoever waited here finds the work done: the version is read after the lock.
        connection.execute(text(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})"))
    context.run_migrations()
