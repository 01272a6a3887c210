"""The service as it runs in production: `connections serve` in its own process, with
the embedded worker, JSON logs to a file, and an API key made beside it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conftest import SECRET_KEY, free_port

CONNECTIONS = str(Path(sys.executable).parent / "connections")


@dataclass
class ServiceProcess:
    database_url: str
    folder: Path
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.folder / "service.log"

    def start(self, timeout: float = 60) -> ServiceProcess:
        env = {
            "PATH": os.environ["PATH"],
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": SECRET_KEY,
            "SANDBOX": "1",
            "PUBLIC_BASE_URL": self.url,
            "WEBHOOK_ALLOW_PRIVATE": "1",
            "LOG_FORMAT": "json",
            "RATE_LIMIT_PER_SECOND": "0",  # the load is the point here
            **self.env,
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [CONNECTIONS, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # a terminal's Ctrl-C is not ours to send it
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError("the service did not start")

    def kill(self) -> None:
        """`kill -9`: no shutdown at all."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM, as an orchestrator stops a container; the exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
