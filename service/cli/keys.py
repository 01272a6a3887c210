"""`connections api-keys create|revoke|list`: the keys callers present (never shown again
after create)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any


def add_commands(sub: Any, services: Callable[[], Any]) -> None:
    """`services` builds the service's parts when a command runs."""
    keys = sub.add_parser("api-keys", help="manage API keys").add_subparsers(
        required=True, metavar="action"
    )
    create = keys.add_parser("create", help="create a key; prints the key alone on stdout")
    create.add_argument("--tenant", required=True)
    create.add_argument(
        "--scope", action="append", required=True, dest="scopes", help="repeat for several scopes"
    )
    create.add_argument("--name", default="")
    create.set_defaults(run=lambda args: _create(services(), args))
    revoke = keys.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    revoke.set_defaults(run=lambda args: _revoke(services(), args))
    listing = keys.add_parser("list", help="list keys (never their secrets)")
    listing.add_argument("--tenant")
    listing.set_defaults(run=lambda args: _list(services(), args))


def _create(services: Any, args: argparse.Namespace) -> int:
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


def _revoke(services: Any, args: argparse.Namespace) -> int:
    if services.api_keys.revoke(args.key_id):
        print(f"revoked {args.key_id}", file=sys.stderr)
        return 0
    print(f"error: no live key {args.key_id}", file=sys.stderr)
    return 1


def _list(services: Any, args: argparse.Namespace) -> int:
    for record in services.tables.api_keys(args.tenant):
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
