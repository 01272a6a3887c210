"""Reload and retry after a lost race, for the service's own commands (the worker's
deadlines and refresh checks, what a refused refresh records).

A request's command that loses a race answers 409: its caller decides again. The service's
own commands decide again themselves: the connection is reloaded and asked afresh, since
what was due or true before the other writer's change may no longer be, so nothing is
recorded twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from domain.exceptions import VersionConflict

T = TypeVar("T")
ATTEMPTS = 20  # lost races in a row before giving up: a guard against loops


def retry_on_conflict(
    load: Callable[[], Any],
    act: Callable[[Any], T | None],
    save: Callable[[Any], object],
    attempts: int = ATTEMPTS,
) -> T | None:
    """Loads the connection, lets `act` decide and command it, and saves. `act` answers
    what it did, or None when there is nothing to do (then nothing is saved); `load` may
    answer None for a connection that is gone. A VersionConflict on saving reloads and
    asks `act` again; after `attempts` of them the last one is raised."""
    for attempt in range(attempts):
        connection = load()
        if connection is None:
            return None
        done = act(connection)
        if done is None:
            return None
        try:
            save(connection)
        except VersionConflict:
            if attempt == attempts - 1:
                raise
            continue
        return done
    return None
