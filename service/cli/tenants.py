"""`connections tenants …`: which origins a tenant's owners may be sent back to; the
settings owners read (set, show) are service.cli.connect's."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from service.cli import connect


def add_commands(sub: Any, services: Callable[[], Any]) -> None:
    """`services` builds the service's parts when a command runs."""
    tenants = sub.add_parser("tenants", help="per-tenant settings").add_subparsers(
        required=True, metavar="action"
    )
    allow = tenants.add_parser(
        "allow-origin", help="let connections' return_url send owners back to ORIGIN"
    )
    allow.add_argument("--tenant", required=True)
    allow.add_argument("origin", help="scheme://host[:port], e.g. https://app.example")
    allow.set_defaults(run=lambda args: _allow_origin(args, services))
    remove = tenants.add_parser("remove-origin", help="stop allowing ORIGIN (new connections)")
    remove.add_argument("--tenant", required=True)
    remove.add_argument("origin")
    remove.set_defaults(run=lambda args: _remove_origin(args, services))
    origins = tenants.add_parser("list-origins", help="registered origins, one per line")
    origins.add_argument("--tenant")
    origins.set_defaults(run=lambda args: _list_origins(args, services))
    connect.add_commands(tenants, services)


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


def _allow_origin(args: argparse.Namespace, services: Callable[[], Any]) -> int:
    from adapters.tables.instants import iso

    origin = _origin(args.origin)
    if origin is None:
        return 2
    built = services()
    added = built.tables.allow_origin(args.tenant, origin, iso(built.clock.now()) or "")
    print(
        f"{'allowed' if added else 'already allowed'} {origin} for tenant {args.tenant}",
        file=sys.stderr,
    )
    return 0


def _remove_origin(args: argparse.Namespace, services: Callable[[], Any]) -> int:
    origin = _origin(args.origin)
    if origin is None:
        return 2
    if services().tables.remove_origin(args.tenant, origin):
        print(f"removed {origin} for tenant {args.tenant}", file=sys.stderr)
        return 0
    print(f"error: {origin} is not allowed for tenant {args.tenant}", file=sys.stderr)
    return 1


def _list_origins(args: argparse.Namespace, services: Callable[[], Any]) -> int:
    for tenant, origin in services().tables.origins(args.tenant):
        print(f"{tenant}\t{origin}")
    return 0
