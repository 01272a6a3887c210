"""The `connections` command."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence

import yaml

from service.cli import connect as connect_cli
from service.cli.followers import add_commands as add_follower_commands
from service.settings import ConfigError, Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if refused := _refused_argument(args):
        parser.error(refused)
    from service.logs import configure

    configure()
    from adapters.migrations import NotMigratedError

    try:
        return args.run(args)
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    except NotMigratedError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader stopped reading (`connections audit export | head`): stop quietly, as
        # other tools do, and keep Python from reporting it again when it flushes stdout.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _refused_argument(args: argparse.Namespace) -> str | None:
    """The edge's rule for strings (service.api.edge.text), for every argument."""
    from service.api.edge.text import refusal

    for name, value in vars(args).items():
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and (reason := refusal(text)) is not None:
                return f"argument {name}: {reason}"
    return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="connections", description="Amazon account connection service"
    )
    sub = parser.add_subparsers(required=True, metavar="command")

    serve = sub.add_parser("serve", help="serve the REST API (and, by default, the worker)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="server processes")
    serve.set_defaults(run=_serve)

    worker = sub.add_parser("worker", help="run the background worker alone")
    worker.set_defaults(run=_worker)

    migrate = sub.add_parser("migrate", help="apply pending migrations of the service's tables")
    migrate.add_argument(
        "--status", action="store_true", help="list migrations (applied or pending); change nothing"
    )
    migrate.set_defaults(run=_migrate)

    deadlines = sub.add_parser("deadlines", help="lifecycle timers").add_subparsers(
        required=True, metavar="action"
    )
    due = deadlines.add_parser("run", help="fire everything due by --now, once, and exit")
    due.add_argument("--now", required=True, help="RFC 3339 instant, e.g. 2026-01-31T00:00:00Z")
    due.set_defaults(run=_deadlines_run)

    keys = sub.add_parser("api-keys", help="manage API keys").add_subparsers(
        required=True, metavar="action"
    )
    create = keys.add_parser("create", help="create a key; prints the key alone on stdout")
    create.add_argument("--tenant", required=True)
    create.add_argument(
        "--scope", action="append", required=True, dest="scopes", help="repeat for several scopes"
    )
    create.add_argument("--name", default="")
    create.set_defaults(run=_create_key)
    revoke = keys.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    revoke.set_defaults(run=_revoke_key)
    listing = keys.add_parser("list", help="list keys (never their secrets)")
    listing.add_argument("--tenant")
    listing.set_defaults(run=_list_keys)

    tenants = sub.add_parser("tenants", help="per-tenant settings").add_subparsers(
        required=True, metavar="action"
    )
    allow = tenants.add_parser(
        "allow-origin", help="let connections' return_url send owners back to ORIGIN"
    )
    allow.add_argument("--tenant", required=True)
    allow.add_argument("origin", help="scheme://host[:port], e.g. https://app.example")
    allow.set_defaults(run=_allow_origin)
    remove = tenants.add_parser("remove-origin", help="stop allowing ORIGIN (new connections)")
    remove.add_argument("--tenant", required=True)
    remove.add_argument("origin")
    remove.set_defaults(run=_remove_origin)
    origins = tenants.add_parser("list-origins", help="registered origins, one per line")
    origins.add_argument("--tenant")
    origins.set_defaults(run=_list_origins)
    connect_cli.add_commands(tenants, _services)

    projections = sub.add_parser("projections", help="read models").add_subparsers(
        required=True, metavar="action"
    )
    rebuild = projections.add_parser("rebuild", help="rebuild every read model from the log")
    rebuild.set_defaults(run=_rebuild)
    add_follower_commands(sub, _services)

    audit = sub.add_parser("audit", help="tamper evidence and exports").add_subparsers(
        required=True, metavar="action"
    )
    verify = audit.add_parser("verify", help="recompute hash chains; non-zero if any is broken")
    verify.add_argument("--connection", help="one connection id (default: all)")
    verify.set_defaults(run=_audit_verify)
    export = audit.add_parser("export", help="stream a tenant's history (JSON lines or CSV)")
    export.add_argument("--tenant", required=True)
    export.add_argument("--from", dest="occurred_from", help="RFC 3339, inclusive")
    export.add_argument("--to", dest="occurred_to", help="RFC 3339, exclusive")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.set_defaults(run=_audit_export)
    heads = audit.add_parser("heads", help="each connection's chain head, to anchor elsewhere")
    heads.set_defaults(run=_audit_heads)

    openapi = sub.add_parser("openapi", help="print the OpenAPI document as YAML")
    openapi.add_argument("--output", help="write to this file instead of stdout")
    openapi.set_defaults(run=_openapi)

    config = sub.add_parser("config", help="print the effective configuration, secrets masked")
    config.set_defaults(run=_config)

    demo = sub.add_parser("demo", help="walk sandbox connections through their life")
    demo.add_argument("--url", help="a running service (default: start one in-process)")
    demo.add_argument("--api-key", help="API key for --url")
    demo.set_defaults(run=_demo)
    return parser


def _services():
    from service.container import build

    return build(Settings.from_env())


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from adapters.migrations import ensure_migrated
    from service.logs import log_start

    settings = Settings.from_env()  # fail fast, with one clear line
    settings.check_bind(args.host)
    # Here, once, before the server processes start (each would refuse on its own).
    ensure_migrated(settings.eventsourcing_env, migrate=settings.migrate_on_start)
    log_start(settings, "serve", host=args.host, port=args.port, workers=args.workers)
    from service.api.edge.http import LimitedHttpToolsProtocol

    uvicorn.run(
        "service.asgi:create",
        factory=True,
        http=LimitedHttpToolsProtocol,  # header size and count caps, head and body timeouts
        timeout_keep_alive=5,  # an idle keep-alive connection closes after 5 s
        host=args.host,
        port=args.port,
        workers=args.workers,
        timeout_graceful_shutdown=15,
        access_log=False,
    )
    return 0


def _worker(args: argparse.Namespace) -> int:
    from service.logs import log_start
    from service.metrics import serve_metrics
    from service.workers.worker import Worker

    services = _services()
    log_start(services.settings, "worker")
    serve_metrics(services.settings.metrics_port)
    worker = Worker(services)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.request_stop())
    worker.run_forever()
    services.close()
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from adapters import migrations

    env = Settings.from_env().eventsourcing_env
    if args.status:
        for m in migrations.status(env):
            print(f"{m.revision}\t{'applied' if m.applied else 'pending'}\t{m.description}")
        return 0
    applied = migrations.upgrade(env)
    for m in applied:
        print(f"applied {m.revision}: {m.description}", file=sys.stderr)
    latest = migrations.status(env)[-1].revision
    print(f"database at {latest}{'' if applied else ' (nothing pending)'}", file=sys.stderr)
    return 0


def _deadlines_run(args: argparse.Namespace) -> int:
    from service.workers.deadlines import run_deadlines_cli

    return run_deadlines_cli(args.now)


def _create_key(args: argparse.Namespace) -> int:
    services = _services()
    try:
        issued = services.api_keys.create(args.tenant, args.scopes, args.name)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(
        f"created {issued.record.id} for tenant {issued.record.tenant_id} "
        f"({' '.join(issued.record.scopes)})",
        file=sys.stderr,
    )
    print(issued.secret)
    return 0


def _revoke_key(args: argparse.Namespace) -> int:
    if _services().api_keys.revoke(args.key_id):
        print(f"revoked {args.key_id}", file=sys.stderr)
        return 0
    print(f"error: no live key {args.key_id}", file=sys.stderr)
    return 1


def _list_keys(args: argparse.Namespace) -> int:
    for record in _services().tables.api_keys(args.tenant):
        print(
            json.dumps(
                {
                    "id": record.id,
                    "tenant": record.tenant_id,
                    "name": record.name,
                    "scopes": list(record.scopes),
                    "created_at": record.created_at,
                    "last_used_at": record.last_used_at,
                    "revoked_at": record.revoked_at,
                }
            )
        )
    return 0


def _origin(raw: str) -> str | None:
    """The origin `raw` names, or None (with a message) when it is more than an origin."""
    from domain.origins import bare_origin

    origin = bare_origin(raw)
    if origin is None:
        print(
            f"error: {raw!r} is not an origin; give scheme://host[:port], e.g. https://app.example",
            file=sys.stderr,
        )
    return origin


def _allow_origin(args: argparse.Namespace) -> int:
    from adapters.tables.instants import iso

    origin = _origin(args.origin)
    if origin is None:
        return 2
    services = _services()
    added = services.tables.allow_origin(args.tenant, origin, iso(services.clock.now()) or "")
    print(
        f"{'allowed' if added else 'already allowed'} {origin} for tenant {args.tenant}",
        file=sys.stderr,
    )
    return 0


def _remove_origin(args: argparse.Namespace) -> int:
    origin = _origin(args.origin)
    if origin is None:
        return 2
    if _services().tables.remove_origin(args.tenant, origin):
        print(f"removed {origin} for tenant {args.tenant}", file=sys.stderr)
        return 0
    print(f"error: {origin} is not allowed for tenant {args.tenant}", file=sys.stderr)
    return 1


def _list_origins(args: argparse.Namespace) -> int:
    for tenant, origin in _services().tables.origins(args.tenant):
        print(f"{tenant}\t{origin}")
    return 0


def _rebuild(args: argparse.Namespace) -> int:
    services = _services()

    def progress(position: int, latest: int) -> None:
        done = position / latest if latest else 1.0
        bar = "#" * int(done * 30)
        print(f"\rrebuilding [{bar:<30}] {position}/{latest} events", end="", file=sys.stderr)

    applied = services.projection.rebuild(progress=progress)
    print(f"\nrebuilt connections_view and events_index from {applied} events", file=sys.stderr)
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    services = _services()
    reports = (
        [services.audit.verify(args.connection)] if args.connection else services.audit.verify_all()
    )
    checked = broken = 0
    for report in reports:
        checked += 1
        for link in report.broken[:1]:
            broken += 1
            print(
                f"BROKEN connection {report.connection_id} at version {link['version']}: "
                f"{link['reason']}"
            )
    print(f"verified {checked} connection(s): {broken} broken", file=sys.stderr)
    return 1 if broken else 0


def _audit_export(args: argparse.Namespace) -> int:
    from adapters.tables.instants import iso
    from domain.exceptions import ValidationFailed
    from service.api.instants import optional_instant

    bounds = {}
    for name, flag in (("occurred_from", "--from"), ("occurred_to", "--to")):
        try:
            bounds[name] = iso(optional_instant(flag, getattr(args, name)))
        except ValidationFailed as e:
            print(f"error: {e.detail}", file=sys.stderr)
            return 2
    for line in _services().audit.export(args.tenant, fmt=args.format, **bounds):
        sys.stdout.write(line)
    return 0


def _audit_heads(args: argparse.Namespace) -> int:
    for head in _services().audit.heads():
        print(json.dumps(head))
    return 0


def openapi_document() -> dict:
    from service.app import create_app
    from service.container import build

    services = build(
        Settings.from_env(
            {"DATABASE_URL": "sqlite:///:memory:", "SANDBOX": "1", "SECRET_KEY": "x" * 32}
        )
    )
    try:
        return create_app(services).openapi_schema.to_schema()
    finally:
        services.close()


def openapi_yaml() -> str:
    return yaml.safe_dump(openapi_document(), sort_keys=False, allow_unicode=True)


def _openapi(args: argparse.Namespace) -> int:
    text = openapi_yaml()
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


def _config(args: argparse.Namespace) -> int:
    print(json.dumps(Settings.from_env().masked(), indent=2, default=str))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from service.cli.demo import run_demo

    return run_demo(args.url, args.api_key)


if __name__ == "__main__":
    raise SystemExit(main())
