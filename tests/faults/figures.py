"""Figures of the fault and fuzz runs, for the README's reliability section: each test
records its own under a name in var/reliability.json; `python -m tests.faults.figures`
prints them, and so does the end of a pytest run that recorded any."""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

PATH = Path(__file__).resolve().parents[2] / "var" / "reliability.json"
LONG = os.environ.get("FAULTS_LONG") == "1"  # make test-faults: more load, longer faults
_lock = threading.Lock()


def record(name: str, **figures: Any) -> None:
    PATH.parent.mkdir(parents=True, exist_ok=True)
    # The threads of this process, and the other pytest workers (make test runs two).
    with _lock, PATH.with_suffix(".lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        saved = json.loads(PATH.read_text()) if PATH.exists() else {}
        saved[name] = {"recorded_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "long": LONG, **figures}
        PATH.write_text(json.dumps(saved, indent=2, sort_keys=True) + "\n")


def recorded(since: float = 0) -> dict[str, Any]:
    if not PATH.exists():
        return {}
    saved = json.loads(PATH.read_text())
    cutoff = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(since))
    return {name: f for name, f in saved.items() if f["recorded_at"] >= cutoff}


def lines(figures: dict[str, Any]) -> list[str]:
    return [
        f"{name}: "
        + ", ".join(f"{k}={v}" for k, v in sorted(f.items()) if k not in ("recorded_at",))
        for name, f in sorted(figures.items())
    ]


if __name__ == "__main__":
    print("\n".join(lines(recorded())) or "no figures recorded yet")
