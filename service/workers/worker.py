"""The background loop: read models, webhooks, deadlines and refresh health, for events
written anywhere.

`connections worker` runs it alone (one or many processes against one PostgreSQL);
`connections serve` runs it as a thread in the embedded default. It sleeps until woken
(a commit in this process, a PostgreSQL NOTIFY from another, a webhook send finishing) or
until `interval` passes, which is the fallback for anything unannounced (retries coming
due, deadlines, a lost LISTEN connection).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from adapters.tables.instants import iso
from adapters.wakeup import PostgresListener
from service.container import Services
from service.metrics import WORKER_LAST_PASS, WORKER_STEP_FAILURES
from service.workers.deadlines import Deadlines, RefreshHealth

log = logging.getLogger(__name__)
# After a pass that found work, the next waits this long, so a busy log is followed in
# batches of tens of events: a pass costs about a millisecond of CPU before its first
# event (each follower's position, notifications, faults and commit, the outboxes' due
# rows). 40 ms against the former 5 ms took 6-10 % off the CPU of a create and 9-18 % off
# an action's (bench.commands, taken in turns); idle, a commit still wakes the worker at
# once, and a reader of the read model catches it up itself (fresh_view).
BUSY_PAUSE = 0.04


class WorkerPassFailed(RuntimeError):
    """Every step of a pass failed (usually: the database is unreachable)."""


class Worker:
    def __init__(self, services: Services, interval: float = 1.0) -> None:
        self.services = services
        self.interval = interval
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.deadlines = Deadlines(services)
        self.refresh = RefreshHealth(services)
        self.waker = services.waker
        # One worker at a time follows the log (the read model, the outboxes): the one
        # whose listener holds the followers' advisory lock. Two would prepare every
        # batch twice, and one would throw its work away (the position's compare-and-set
        # lets only one commit). The others stand by and take over when its connection
        # ends; until a listener is connected, every worker follows (still exactly once).
        # The process's one listener (adapters.wakeup), shared with the API keys and the
        # token memory; a worker built without one (a test's parts) makes its own.
        self.listener = services.listener or PostgresListener.for_recorder(services.app.recorder)
        if self.listener is not None:
            channel = self.listener.channel
            self.listener.subscribe(channel, self.waker.wake, self.waker.wake)
            self.listener.lead("followers")

    def follows(self) -> bool:
        listener = self.listener
        return listener is None or not listener.listening.is_set() or listener.leading.is_set()

    def run_once(self, *, timed: bool = True) -> int:
        """One pass: read models, webhooks, and (when `timed`) deadlines, refresh health
        and webhook retention, which only move with the clock; returns how much it did.
        Each step fails alone (logged, counted in `worker_step_failures`): a read model
        that cannot move does not hold up webhooks, deadlines or refresh checks."""
        webhooks, mail = self.services.webhooks, self.services.mail
        follow = self._followers_up_to_head() if self.follows() else (lambda catch_up: 0)
        steps: list[tuple[str, Callable[[], int]]] = [
            ("projection", lambda: follow(self.services.projection.catch_up)),
            (
                "webhooks",
                lambda: follow(webhooks.outbox.catch_up) + webhooks.dispatcher.run_once(wait=False),
            ),
            ("mail", lambda: follow(mail.outbox.catch_up) + mail.dispatcher.run_once()),
        ]
        if timed:
            steps += [
                ("deadlines", self.deadlines.run_once),
                ("refresh_health", self.refresh.run_once),
                ("webhook_retention", self.services.webhooks.prune),
                ("access_log_retention", self.services.credentials.access_log.purge),
            ]
            if self.services.settings.erase_after_disconnect is not None:
                steps.append(("erasure", self.erase_due))
        done, failed = 0, {}
        for name, step in steps:
            try:
                done += step()
            except Exception as exc:
                WORKER_STEP_FAILURES.labels(name).inc()
                failed[name] = exc
        if failed and len(failed) == len(steps):
            # Usually the database is gone: one line for the pass, not one per step.
            raise WorkerPassFailed(", ".join(failed)) from next(iter(failed.values()))
        for name, exc in failed.items():
            log.error("worker step %s failed; the other steps still ran", name, exc_info=exc)
        return done

    def erase_due(self) -> int:
        """ERASE_AFTER_DISCONNECT_DAYS (SPEC §14): erases the connections disconnected at
        least that long ago; how many."""
        settings, services = self.services.settings, self.services
        cutoff = iso(services.clock.now() - settings.erase_after_disconnect) or ""
        erased = 0
        for connection_id in services.connections.fresh_view().disconnected_before(cutoff):
            services.erasure.erase(
                connection_id,
                "ERASE_AFTER_DISCONNECT_DAYS elapsed",
                "system:erasure",
                compact=False,
            )
            erased += 1
        if erased:
            services.erasure.compact()  # once for the batch (SQLite: a VACUUM)
        return erased

    def _followers_up_to_head(self) -> Callable[[Callable[..., int]], int]:
        """Each follower's share of a pass: up to the log's head when the pass began.
        Under a steady stream of commands an open-ended catch-up kept the first follower
        busy while the outboxes after it waited (seen in bench.http)."""
        try:
            head: int | None = self.services.app.recorder.max_notification_id() or 0
        except Exception:  # the store is away: each step meets that on its own
            head = None
        return lambda catch_up: catch_up(head)

    def run_forever(self) -> None:
        log.info("worker started")
        if self.listener is not None:
            self.listener.start()
        timed_at = 0.0
        while not self.stopping.is_set():
            done = 0
            timed = time.monotonic() - timed_at >= self.interval
            try:
                done = self.run_once(timed=timed)
                WORKER_LAST_PASS.set_to_current_time()
            except Exception:
                log.exception("worker pass failed; retrying")
            if timed:
                timed_at = time.monotonic()
            if done:
                # Busy: go again after a breath, so commits arriving meanwhile are taken
                # as one batch instead of one pass each.
                self.stopping.wait(BUSY_PAUSE)
            else:
                self.waker.wait(self.interval)
        if self.listener is not None:
            # The lock goes (another process's worker takes over); the connection stays
            # for the API keys and the token memory until the process closes its parts.
            self.listener.resign()
            if self.listener is not self.services.listener:
                self.listener.stop()
        log.info("worker stopped")

    def start_thread(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="worker", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        self.stopping.set()
        self.waker.wake()

    def stop(self, timeout: float = 10.0) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
