"""`connections audit verify|export|heads`: tamper evidence an auditor can check and take
away."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any


def add_commands(sub: Any, services: Callable[[], Any]) -> None:
    """`services` builds the service's parts when a command runs."""
    audit = sub.add_parser("audit", help="tamper evidence and exports").add_subparsers(
        required=True, metavar="action"
    )
    verify = audit.add_parser("verify", help="recompute hash chains; non-zero if any is broken")
    verify.add_argument("--connection", help="one connection id (default: all)")
    verify.set_defaults(run=lambda args: _verify(args, services))
    export = audit.add_parser("export", help="stream a tenant's history (JSON lines or CSV)")
    export.add_argument("--tenant", required=True)
    export.add_argument("--from", dest="occurred_from", help="RFC 3339, inclusive")
    export.add_argument("--to", dest="occurred_to", help="RFC 3339, exclusive")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.set_defaults(run=lambda args: _export(args, services))
    heads = audit.add_parser("heads", help="each connection's chain head, to anchor elsewhere")
    heads.set_defaults(run=lambda args: _heads(services))


def _verify(args: argparse.Namespace, services: Callable[[], Any]) -> int:
    audit = services().audit
    reports = [audit.verify(args.connection)] if args.connection else audit.verify_all()
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


def _export(args: argparse.Namespace, services: Callable[[], Any]) -> int:
    from adapters.tables.instants import iso
    from domain.exceptions import ValidationFailed
    from service.api.instants import optional_instant

    # The bounds are checked before anything is built: a typo costs no database connection.
    bounds = {}
    for name, flag in (("occurred_from", "--from"), ("occurred_to", "--to")):
        try:
            bounds[name] = iso(optional_instant(flag, getattr(args, name)))
        except ValidationFailed as e:
            print(f"error: {e.detail}", file=sys.stderr)
            return 2
    for line in services().audit.export(args.tenant, fmt=args.format, **bounds):
        sys.stdout.write(line)
    return 0


def _heads(services: Callable[[], Any]) -> int:
    for head in services().audit.heads():
        print(json.dumps(head))
    return 0
