"""`connections deadlines run`: fire the lifecycle timers due by an instant, once (the
work itself is service.workers.deadlines')."""

from __future__ import annotations

import argparse
from typing import Any


def add_commands(sub: Any) -> None:
    deadlines = sub.add_parser("deadlines", help="lifecycle timers").add_subparsers(
        required=True, metavar="action"
    )
    due = deadlines.add_parser("run", help="fire everything due by --now, once, and exit")
    due.add_argument("--now", required=True, help="RFC 3339 instant, e.g. 2026-01-31T00:00:00Z")
    due.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from service.workers.deadlines import run_deadlines_cli

    return run_deadlines_cli(args.now)
