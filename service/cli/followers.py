"""`connections followers …`: how an operator sees the log's followers and gets one past
an event it cannot process (see service.follower)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from adapters.tables.instants import iso


def add_commands(sub: Any, services: Any) -> None:
    """`services` builds the service's parts when a command runs."""
    followers = sub.add_parser(
        "followers", help="the log's followers: positions, stuck events, parking"
    ).add_subparsers(required=True, metavar="action")
    status = followers.add_parser(
        "status", help="one JSON line per follower; non-zero when one is stuck"
    )
    status.set_defaults(run=lambda args: _status(services()))
    faults = followers.add_parser("faults", help="every stuck and parked event, as JSON lines")
    faults.set_defaults(run=lambda args: _faults(services()))
    skip = followers.add_parser(
        "skip",
        help="park the stuck event at POSITION (after inspecting it): FOLLOWER moves past it",
    )
    skip.add_argument("follower")
    skip.add_argument("position", type=int)
    skip.set_defaults(run=lambda args: _skip(services(), args))


def _status(services: Any) -> int:
    latest = services.app.recorder.max_notification_id() or 0
    stuck = 0
    for follower in services.followers:
        fault = follower.stuck()
        stuck += fault is not None
        line = {
            "follower": follower.name,
            "position": follower.step.position(),
            "latest": latest,
            "stuck": fault.as_dict() if fault else None,
        }
        print(json.dumps(line))
    return 1 if stuck else 0


def _faults(services: Any) -> int:
    for fault in services.faults.all():
        print(json.dumps(fault.as_dict()))
    return 0


def _skip(services: Any, args: argparse.Namespace) -> int:
    names = [f.name for f in services.followers]
    if args.follower not in names:
        print(f"no follower {args.follower!r}; followers: {', '.join(names)}", file=sys.stderr)
        return 2
    parked = services.faults.park(args.follower, args.position, iso(services.clock.now()) or "")
    if parked is None:
        print(
            f"{args.follower} is not stuck at position {args.position}: nothing parked "
            "(see `connections followers status`)",
            file=sys.stderr,
        )
        return 1
    print(json.dumps(parked.as_dict()))
    print(
        f"parked: {args.follower} moves past position {args.position} on its next pass",
        file=sys.stderr,
    )
    return 0
