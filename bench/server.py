"""A fresh store per run, and `connections serve` started on it as users start it.

The server is a subprocess (the production uvicorn, one worker process, no debug, the
worker thread on) on a free loopback port; its API key comes from `connections api-keys
create` with the same environment, so nothing in this process touches the server's state.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

SECRET_KEY = "bench-secret-key-0123456789abcdef-0123456789"
TENANT = "bench"
CONNECTIONS = str(Path(sys.executable).with_name("connections"))


@dataclass(frozen=True)
class Store:
    kind: str  # "postgres" or "sqlite"
    url: str  # the service's DATABASE_URL
    ceiling_target: str  # where the raw ceiling writes: a schema-qualified DSN or a file


@contextmanager
def fresh_store(kind: str, postgres_url: str) -> Iterator[Store]:
    """A new PostgreSQL schema (dropped after) or a new SQLite file (deleted after)."""
    if kind == "postgres":
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        sep = "&" if "?" in postgres_url else "?"
        try:
            yield Store(kind, f"{postgres_url}{sep}schema={schema}", schema)
        finally:
            with psycopg.connect(postgres_url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        return
    folder = tempfile.mkdtemp(prefix="connections-bench-")
    try:
        yield Store(kind, f"sqlite:///{folder}/connections.db", f"{folder}/ceiling.db")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_env(database_url: str, port: int) -> dict[str, str]:
    """The production settings: the worker embedded, JSON log lines (to a file here).
    One API key drives every client, so its rate limit is raised out of reach: the
    limiter still runs on every request, it just never refuses one."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SANDBOX": "1",
        "SECRET_KEY": SECRET_KEY,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "RUN_WORKER": "1",
        "LOG_FORMAT": "json",
        "RATE_LIMIT_PER_SECOND": "1000000000",
        "RATE_LIMIT_BURST": "1000000000",
        # Consent windows left open by the runs must not expire (and fire deadline
        # commands) in the middle of a later run: a full run lasts longer than 15 min.
        "AUTHORIZATION_WINDOW": "1d",
    }


class Server:
    """`connections serve` in a subprocess; `pid` is the process serving requests."""

    def __init__(
        self,
        database_url: str,
        log_path: str,
        *,
        run_worker: bool = True,
        workers: int = 1,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**service_env(database_url, self.port), **(env or {})}
        self.env["RUN_WORKER"] = "1" if run_worker else "0"
        self.workers = workers
        self.log = open(log_path, "wb")  # closed in stop()
        self.process = subprocess.Popen(
            [
                CONNECTIONS,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.pid = self.process.pid  # with workers > 1, uvicorn's supervisor
        self._wait_until_up()

    def _wait_until_up(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"`connections serve` exited ({self.process.returncode}); see {self.log.name}"
                )
            try:
                up = httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
                # Several workers: each one's log line, so none is still importing.
                started = Path(self.log.name).read_bytes().count(b"Application startup complete")
                if up and started >= self.workers:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"`connections serve` did not answer in {timeout:.0f} s")

    def api_key(self, scopes: tuple[str, ...] = ("connections:read", "connections:write")) -> str:
        args = [CONNECTIONS, "api-keys", "create", "--tenant", TENANT, "--name", "bench"]
        for scope in scopes:
            args += ["--scope", scope]
        done = subprocess.run(args, env=self.env, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"`connections api-keys create` failed: {done.stderr[-2000:]}")
        return done.stdout.strip().splitlines()[-1]

    def readiness(self) -> tuple[int, float | None]:
        """(read-model lag in events, seconds since the embedded worker's last pass)."""
        body = httpx.get(f"{self.url}/readyz", timeout=30).json()
        checks = body.get("checks", body)  # a 503 problem nests them under "checks"
        return int(checks.get("read_model_lag", 0)), checks.get("worker_heartbeat_age_seconds")

    def settle(self, timeout: float = 300.0) -> float | None:
        """Waits until the embedded worker has done everything the events so far ask of it:
        the read model has caught up, then a whole worker pass (webhook outbox, deadlines,
        refresh checks) has ended after that, so no backlog runs during the next run.
        Returns the seconds it took, or None when the worker had not settled by `timeout`."""
        began = time.monotonic()
        caught_up_at = None
        while time.monotonic() - began < timeout:
            lag, age = self.readiness()
            now = time.monotonic()
            if lag > 0:
                caught_up_at = None
            elif caught_up_at is None:
                caught_up_at = now
            elif age is None or now - age > caught_up_at + 0.15:  # a pass ended since
                return round(now - began, 2)
            time.sleep(0.05)
        return None

    def pids(self) -> list[int]:
        """The serving process and, with several workers, its children."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return [self.pid, *map(int, children)]

    def rss_bytes(self) -> int:
        """Resident memory of all the server's processes together."""
        total = 0
        for pid in self.pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        return total

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        _stop(self.process)
        self.log.close()


class WorkerProcess:
    """`connections worker` in a subprocess, with the environment of `server`."""

    def __init__(self, server: Server, log_path: str) -> None:
        self.log = open(log_path, "wb")  # closed in stop()
        self.process = subprocess.Popen(
            [CONNECTIONS, "worker"], env=server.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        self._wait_until_listening()

    def _wait_until_listening(self, timeout: float = 30.0) -> None:
        """Until its log says it listens for commits (PostgreSQL)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "listening on " in Path(self.log.name).read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"`connections worker` exited; see {self.log.name}")
            time.sleep(0.05)
        raise RuntimeError(f"`connections worker` did not start in {timeout:.0f} s")

    def stop(self) -> None:
        _stop(self.process)
        self.log.close()


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM (a graceful shutdown), then SIGKILL after 30 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Peer:
    """The hand-written peer (bench/peer/) in a subprocess, beside the service: its own
    tables in `schema` of the same PostgreSQL, `workers` uvicorn processes, one API key."""

    def __init__(self, dsn: str, schema: str, log_path: str, *, workers: int = 2) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.key = f"peer_{uuid.uuid4().hex}"
        self.workers = workers
        self.log = open(log_path, "wb")  # closed in stop()
        env = {**os.environ, "PEER_DATABASE_URL": dsn, "PEER_SCHEMA": schema}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.peer",
                *("--port", str(self.port), "--workers", str(workers)),
                *("--api-key", self.key),
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).parent.parent,
        )
        self.pid = self.process.pid
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the peer exited ({self.process.returncode}); see {log_path}")
            started = Path(log_path).read_bytes().count(b"Application startup complete")
            if started >= workers:
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("the peer did not start in 30 s")

    def pids(self) -> list[int]:
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return [self.pid, *map(int, children)]

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def settle(self, timeout: float = 0) -> float:
        return 0.0  # nothing runs behind its requests

    def stop(self) -> None:
        _stop(self.process)
        self.log.close()
