"""Run a blocking handler body in a worker thread.

Handlers call the synchronous event store; they are written as plain functions and
wrapped here (litestar's own `sync_to_thread` wraps a handler twice when two handlers
share a path, which returns an un-awaited coroutine).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import anyio.to_thread


def blocking(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))

    return run
