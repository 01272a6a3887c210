"""`connections console-users add|list|remove`: the people who may sign in to a tenant's
console (SPEC §13), each with a role."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

ROLES = ("viewer", "support", "auditor", "admin")  # service.console.people.ROLES


def add_commands(sub: Any, services: Callable[[], Any]) -> None:
    """`services` builds the service's parts when a command runs."""
    people = sub.add_parser(
        "console-users", help="who may sign in to a tenant's console, with which role"
    ).add_subparsers(required=True, metavar="action")
    add = people.add_parser("add", help="add a person (or change their role)")
    add.add_argument("--tenant", required=True)
    add.add_argument("--email", required=True)
    add.add_argument("--role", required=True, choices=ROLES)
    add.set_defaults(run=lambda args: _add(args, services))
    listed = people.add_parser("list", help="one line per person: e-mail, role, password set")
    listed.add_argument("--tenant", required=True)
    listed.set_defaults(run=lambda args: _list(args, services))
    remove = people.add_parser("remove", help="remove a person; their sessions end at once")
    remove.add_argument("--tenant", required=True)
    remove.add_argument("--email", required=True)
    remove.set_defaults(run=lambda args: _remove(args, services))


def _add(args: argparse.Namespace, services: Callable[[], Any]) -> int:
    from domain.exceptions import ValidationFailed

    try:
        person = services().console.people.add(args.tenant, args.email, args.role)
    except ValidationFailed as e:
        print(f"error: {e.detail}", file=sys.stderr)
        return 2
    print(f"{person.email}\t{person.role}")
    print(
        f"{person.email} may sign in to {args.tenant}'s console at /console/sign-in",
        file=sys.stderr,
    )
    return 0


def _list(args: argparse.Namespace, services: Callable[[], Any]) -> int:
    for row in services().console.people.of_tenant(args.tenant):
        print(f"{row.email}\t{row.role}\t{'password' if row.password_hash else 'links only'}")
    return 0


def _remove(args: argparse.Namespace, services: Callable[[], Any]) -> int:
    if not services().console.people.remove(args.tenant, args.email):
        print(f"no console user {args.email} in tenant {args.tenant}", file=sys.stderr)
        return 1
    return 0
