"""Fault injection against `connections serve` in its own process and real PostgreSQL.

`make test` runs a short version of each scenario; `make test-faults` (FAULTS_LONG=1)
more load and longer, repeated faults, and with FAULTS_RESTART_POSTGRES=1 also restarts
this machine's PostgreSQL for real.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.container import Services, build
from tests.conftest import make_settings
from tests.faults import figures
from tests.faults.process import ServiceProcess

_STARTED = time.time()


@pytest.fixture
def store(pg_schema_url: str) -> Iterator[Services]:
    """The store the service writes to, read directly by the test."""
    services = build(make_settings(pg_schema_url))
    yield services
    services.close()


@pytest.fixture
def service_factory(tmp_path: Path) -> Iterator:
    started: list[ServiceProcess] = []

    def start(database_url: str, **env: str) -> ServiceProcess:
        process = ServiceProcess(database_url, tmp_path / f"service{len(started)}", env=env)
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.close()


def pytest_terminal_summary(terminalreporter) -> None:
    found = figures.recorded(since=_STARTED)
    if found:
        terminalreporter.section("reliability figures (var/reliability.json)")
        for line in figures.lines(found):
            terminalreporter.write_line(line)
