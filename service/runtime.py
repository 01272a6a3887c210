"""The interpreter's settings in a serving process, for the tail of latency (issue #25).

Measured with bench.http's create run (PostgreSQL, `serve --workers 2`, the worker
embedded, wrk at 8 connections): p99 80-97 ms as Python comes, 11 ms with the collector
off in one process. The pauses were full collections walking every object the process
holds (the modules, the app, the caches) while requests waited. So, once a process has
started:
- what startup made is frozen (`gc.freeze`): never walked again, never freed (it lives as
  long as the process anyway);
- the youngest generation is collected every 20,000 allocations instead of 700, so the
  older ones fill, and are walked, far less often (cycles still collected, a little
  later);
- the interpreter hands the GIL between threads every millisecond instead of every five,
  so a request's turn does not wait behind the worker's follower pass or the batch
  writer.
p99 then 22-29 ms in the same run; CPU per request unchanged (README, "Performance").
"""

from __future__ import annotations

import gc
import sys

YOUNG_COLLECTION_EVERY = 20_000
SWITCH_INTERVAL_SECONDS = 0.001


def tune_for_serving() -> None:
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, middle, oldest)
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
