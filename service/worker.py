"""The background loop: read models, deadlines and refresh health, for events written
anywhere.

`connections worker` runs it alone (one or many processes against one PostgreSQL);
`connections serve` runs it as a thread in the embedded default.
"""

from __future__ import annotations

import logging
import threading

from service.container import Services
from service.deadlines import Deadlines, RefreshHealth
from service.metrics import WORKER_LAST_PASS

log = logging.getLogger(__name__)
BUSY_PAUSE = 0.01


class Worker:
    def __init__(self, services: Services, interval: float = 1.0) -> None:
        self.services = services
        self.interval = interval
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.deadlines = Deadlines(services)
        self.refresh = RefreshHealth(services)

    def run_once(self) -> int:
        """One pass: read models, webhooks, deadlines, refresh health."""
        done = self.services.projection.catch_up()
        done += self.services.webhooks.run_once(wait=False)
        done += self.deadlines.run_once()
        done += self.refresh.run_once()
        return done

    def run_forever(self) -> None:
        log.info("worker started")
        while not self.stopping.is_set():
            done = 0
            try:
                done = self.run_once()
                WORKER_LAST_PASS.set_to_current_time()
            except Exception:
                log.exception("worker pass failed; retrying")
            # Busy: go again at once (webhooks wait behind each pass); idle: poll gently.
            self.stopping.wait(BUSY_PAUSE if done else self.interval)
        log.info("worker stopped")

    def start_thread(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
