"""`connections tenants set|show`: what a tenant's owners read on pages and in mail."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from typing import Any

from service.api.edge.text import ADDRESS_PATTERN

_EMAIL = re.compile(ADDRESS_PATTERN)
_NAME_MAX = 80


def add_commands(tenants: Any, services: Callable[[], Any]) -> None:
    setting = tenants.add_parser(
        "set", help="display name, support e-mail and e-mails on/off shown to owners"
    )
    setting.add_argument("--tenant", required=True)
    setting.add_argument("--name", help="the name owners see, e.g. 'Acme Repricer'")
    setting.add_argument("--support-email", help="where owners write with questions")
    emails = setting.add_mutually_exclusive_group()
    emails.add_argument("--no-emails", dest="emails", action="store_false", default=None)
    emails.add_argument("--emails", dest="emails", action="store_true")
    setting.set_defaults(run=lambda args: _set(args, services))
    show = tenants.add_parser("show", help="a tenant's settings")
    show.add_argument("--tenant", required=True)
    show.set_defaults(run=lambda args: _show(args, services))


def _set(args: argparse.Namespace, services: Callable[[], Any]) -> int:
    name = args.name.strip() if args.name is not None else None
    if (name is not None and not 1 <= len(name) <= _NAME_MAX) or (name and not name.isprintable()):
        print(f"error: --name must be 1 to {_NAME_MAX} printable characters", file=sys.stderr)
        return 2
    if name and "=?" in name:  # it reaches mail subjects: no RFC 2047 encoded-word (mail.headers)
        print("error: --name may not contain '=?'", file=sys.stderr)
        return 2
    if args.support_email is not None and not _EMAIL.fullmatch(args.support_email):
        print("error: --support-email must be an e-mail address", file=sys.stderr)
        return 2
    row = services().tenants.set(
        args.tenant,
        display_name=name,
        support_email=args.support_email,
        emails_enabled=args.emails,
    )
    print(_describe(row), file=sys.stderr)
    return 0


def _show(args: argparse.Namespace, services: Callable[[], Any]) -> int:
    print(_describe(services().tenants.get(args.tenant)))
    return 0


def _describe(row: Any) -> str:
    return (
        f"tenant {row.tenant_id}: name {row.display_name!r}, support e-mail "
        f"{row.support_email or '(none)'}, e-mails {'on' if row.emails_enabled else 'off'}"
    )
