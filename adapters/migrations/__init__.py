"""Versioned migrations of the service's own tables (Alembic), on SQLite and PostgreSQL.

`upgrade(env)` applies what is pending, in one transaction under a lock (processes that
start together take turns; the later ones find nothing left to do). `status(env)` lists
every migration, oldest first, and whether it is applied. `ensure_migrated` is what a
starting process calls: migrate, or refuse with one line. How to add one: README,
"Adding a migration". The eventsourcing library creates its own tables itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from adapters.migrations.engine import engine_for, schema_of

HERE = Path(__file__).parent


class NotMigratedError(RuntimeError):
    """The database lacks migrations this code needs; the message is one line."""


@dataclass(frozen=True)
class Migration:
    revision: str
    description: str
    applied: bool


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(HERE / "versions"))
    return config


@cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def revisions() -> list[str]:
    """Every migration's revision, oldest first."""
    return [r.revision for r in reversed(list(_script().walk_revisions()))]


def heads() -> tuple[str, ...]:
    """More than one means two migrations claim the same predecessor: renumber one."""
    return tuple(_script().get_heads())


def status(env: Mapping[str, str]) -> list[Migration]:
    script = _script()
    engine = engine_for(env)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"version_table_schema": schema_of(env)}
            )
            heads = context.get_current_heads()
    finally:
        engine.dispose()
    applied = {r.revision for head in heads for r in script.iterate_revisions(head, "base")}
    ordered = reversed(list(script.walk_revisions()))
    return [
        Migration(r.revision, (r.doc or "").splitlines()[0], r.revision in applied) for r in ordered
    ]


def pending(env: Mapping[str, str]) -> list[Migration]:
    return [m for m in status(env) if not m.applied]


def upgrade(env: Mapping[str, str], target: str = "heads") -> list[Migration]:
    """Applies the pending migrations; returns those this call applied (none when another
    process applied them while this one waited for the lock)."""
    config = _config()
    config.attributes["schema"] = schema_of(env)
    config.attributes["applied"] = applied = []
    engine = engine_for(env)
    try:
        with engine.connect() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, target)
    finally:
        engine.dispose()
    return [m for m in status(env) if m.revision in applied]


def ensure_migrated(env: Mapping[str, str], *, migrate: bool) -> None:
    """Migrates when `migrate` (MIGRATE_ON_START); otherwise refuses an unmigrated database."""
    missing = pending(env)
    if not missing:
        return
    if migrate:
        upgrade(env)
        return
    raise NotMigratedError(
        f"the database is not migrated (pending: {', '.join(m.revision for m in missing)}): "
        "run `connections migrate` first, or set MIGRATE_ON_START=1"
    )


def new(message: str) -> Path:
    """Writes the next numbered migration file (empty upgrade/downgrade) after the head."""
    number = f"{len(revisions()) + 1:04d}"
    config = _config()
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    script = command.revision(config, message=message, rev_id=number)
    return Path(script.path)  # type: ignore[union-attr]
