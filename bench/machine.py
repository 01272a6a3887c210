"""How busy the machine was with work that is not this benchmark's, during a measurement.

On a shared machine another process's CPU use skews a figure; each run records the
cores that processes other than the server, the load process, this process and
PostgreSQL kept busy (hypervisor steal included), so disturbed figures can be told apart.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
DISTURBED = 0.25  # cores of other work above which a figure is marked as disturbed


def busy_seconds() -> float:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / TICK


def process_seconds(pid: int) -> float:
    """User and system time of the process and of its children that ended (PostgreSQL's
    postmaster collects those of its backends as they exit)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[11:15]) / TICK


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


class Meter:
    """`Meter(pids)` … `.background_cores()`: other work's CPU since the meter started."""

    def __init__(self, pids: Iterable[int]) -> None:
        self.pids = [os.getpid(), *pids]
        self.started = time.monotonic()
        self.busy = busy_seconds()
        self.ours = self._ours()

    def _ours(self) -> float:
        return sum(process_seconds(p) for p in [*self.pids, *postgres_pids()])

    def background_cores(self) -> float:
        elapsed = time.monotonic() - self.started
        other = (busy_seconds() - self.busy) - (self._ours() - self.ours)
        return round(max(0.0, other) / elapsed, 2) if elapsed > 0 else 0.0
