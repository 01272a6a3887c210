"""`connections erase --connection ID --reason R` (SPEC §14) and `connections data-keys
rewrap` (after a SECRET_KEY rotation: README, "Rotating SECRET_KEY")."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any


def add_commands(sub: Any, services: Callable[[], Any]) -> None:
    erase = sub.add_parser(
        "erase", help="erase a disconnected connection's personal values (SPEC §14)"
    )
    erase.add_argument("--connection", required=True, help="the connection's id")
    erase.add_argument("--reason", required=True, help="why, for the record (names nobody)")
    erase.set_defaults(run=lambda args: _erase(args, services))
    keys = sub.add_parser("data-keys", help="the connections' data keys").add_subparsers(
        required=True, metavar="action"
    )
    rewrap = keys.add_parser(
        "rewrap", help="wrap every data key under the current SECRET_KEY (after a rotation)"
    )
    rewrap.set_defaults(run=lambda args: _rewrap(services))


def _erase(args: argparse.Namespace, services: Callable[[], Any]) -> int:
    from domain.exceptions import DomainError

    built = services()
    try:
        connection = built.erasure.erase(args.connection, args.reason, "cli")
    except DomainError as e:
        print(f"error: {e.code}: {e.detail}", file=sys.stderr)
        return 1
    finally:
        built.close()
    print(json.dumps({"id": str(connection.id), "erased_at": connection.erased_at.isoformat()}))
    return 0


def _rewrap(services: Callable[[], Any]) -> int:
    built = services()
    try:
        moved = built.app.mapper.keys.rewrap()
    finally:
        built.close()
    print(f"rewrapped {moved} data key(s) under the current SECRET_KEY", file=sys.stderr)
    return 0
