"""The sandbox's own worker threads, apart from the server's shared pool.

The service calls its own sandbox Amazon from request threads (a token request refreshes
through the sandbox's LWA while holding one of the pool's threads): a sandbox answer that
needed a thread from the same pool would wait on the callers that wait on it. The levers'
store reads (service.sandbox.grants) run here instead."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.to_thread

CAPACITY = 16


def off_the_shared_pool(handler: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """`handler` (sync, taking `request`) run in the sandbox's threads; litestar reads the
    original's signature through `__wrapped__`."""

    @functools.wraps(handler)
    async def run(**kwargs: Any) -> Any:
        return await in_sandbox_thread(kwargs["request"], functools.partial(handler, **kwargs))

    return run


async def in_sandbox_thread(request: Any, call: Callable[[], Any]) -> Any:
    state = request.app.state
    limiter = state.get("sandbox_threads")
    if limiter is None:  # made on the app's own event loop, on first use
        limiter = state.sandbox_threads = anyio.CapacityLimiter(CAPACITY)
    return await anyio.to_thread.run_sync(call, limiter=limiter)
