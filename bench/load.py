"""The load process: a separate Python process that drives the server over loopback.

`LoadProcess` (in the orchestrator) sends one JSON job per line to `python -m bench.load`
and reads one JSON result per line back. A job runs `clients` threads, each with its own
keep-alive connection (see bench/traffic.py), from a common start until `seconds` pass,
`total` requests are done, or the thread's share of connection ids runs out. Latencies
are taken around each request; the load process's own CPU per request is reported too.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Any

from bench import ceiling
from bench.traffic import Plan

JobResult = dict[str, Any]


class LoadProcess:
    """The orchestrator's handle on the load process."""

    def __init__(self, **defaults: Any) -> None:
        self.defaults = defaults  # fields every job gets, e.g. the HTTP client to use
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.load"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.pid = self.process.pid

    def run(self, job: dict[str, Any]) -> JobResult:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps({**self.defaults, **job}) + "\n")
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the load process died")
        result = json.loads(line)
        if "crash" in result:
            raise RuntimeError(f"load job failed: {result['crash']}")
        return result

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(30)


def summarize(latencies: list[float], errors: Counter, elapsed: float, cpu: float) -> JobResult:
    latencies.sort()
    n = len(latencies)

    def pct(p: float) -> float:
        return round(latencies[min(n - 1, int(p * n))] * 1000, 2) if n else 0.0

    return {
        "ok": n,
        "errors": dict(errors),
        "seconds": round(elapsed, 3),
        "per_second": round(n / elapsed, 1) if elapsed else 0.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": round(sum(latencies) / n * 1000, 2) if n else 0.0,
        "max_ms": round(latencies[-1] * 1000, 2) if n else 0.0,
        "load_cpu_ms_per_op": round(cpu / max(n, 1) * 1000, 3),
    }


def run_threads(clients: int, seconds: float, total: int | None, work: Any) -> JobResult:
    """Runs `work(thread_index)` in `clients` threads to prepare (open a connection), then,
    from one common start, `prepared(deadline, take, latencies, errors)`; `take()` is false
    once `total` operations were handed out. Preparation is outside the clock."""
    counter = itertools.count()
    take = (lambda: next(counter) < total) if total else (lambda: True)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[Counter] = [Counter() for _ in range(clients)]
    ready = threading.Barrier(clients + 1)
    go = threading.Event()
    ends = [0.0] * clients
    crashed: list[BaseException] = []
    deadline = 0.0

    def thread(i: int) -> None:
        try:
            prepared = work(i)
        except BaseException as exc:
            crashed.append(exc)
            ready.abort()
            raise
        ready.wait()
        go.wait()
        try:
            prepared(deadline, take, latencies[i], errors[i])
        except BaseException as exc:
            crashed.append(exc)
            raise
        finally:
            ends[i] = time.perf_counter()

    threads = [threading.Thread(target=thread, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    cpu0 = began = 0.0
    try:
        ready.wait()
        cpu0 = time.process_time()
        began = time.perf_counter()
        deadline = began + seconds
    except threading.BrokenBarrierError:
        pass  # a thread failed to prepare: reported below
    finally:
        go.set()
        for t in threads:
            t.join()
    if crashed:
        raise crashed[0]
    elapsed = max(ends) - began
    return summarize(
        [x for part in latencies for x in part],
        sum(errors, Counter()),
        elapsed,
        time.process_time() - cpu0,
    )


def run_http(job: dict[str, Any]) -> JobResult:
    plan = Plan(job)
    return run_threads(job["clients"], job["seconds"], job.get("total"), plan.worker)


def main() -> None:
    for line in sys.stdin:
        job = json.loads(line)
        try:
            if job["kind"] == "ceiling":
                result = run_threads(
                    job["clients"], job["seconds"], None, ceiling.worker_factory(job)
                )
            else:
                result = run_http(job)
        except Exception as exc:  # reported to the orchestrator, which stops
            result = {"crash": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
