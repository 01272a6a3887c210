"""`connections projections rebuild`: the read models recomputed from the event log."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


def add_commands(sub: Any, services: Callable[[], Any]) -> None:
    """`services` builds the service's parts when a command runs."""
    projections = sub.add_parser("projections", help="read models").add_subparsers(
        required=True, metavar="action"
    )
    rebuild = projections.add_parser("rebuild", help="rebuild every read model from the log")
    rebuild.set_defaults(run=lambda args: _rebuild(services()))


def _rebuild(services: Any) -> int:
    def progress(position: int, latest: int) -> None:
        done = position / latest if latest else 1.0
        bar = "#" * int(done * 30)
        print(f"\rrebuilding [{bar:<30}] {position}/{latest} events", end="", file=sys.stderr)

    applied = services.projection.rebuild(progress=progress)
    print(f"\nrebuilt connections_view and events_index from {applied} events", file=sys.stderr)
    return 0
