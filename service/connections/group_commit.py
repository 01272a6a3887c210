"""Group commit: the commands that threads of one process save at the same moment are
written in one transaction, so one table lock and one fsync serve many of them.

The event store keeps notification ids in commit order by taking the events table's
exclusive lock in every transaction that records events (adapters.pg_recorder, as
eventsourcing's own PostgreSQL recorder does; SQLite has a single writer anyway).
Followers (the read model, the outboxes) rely on that order: they never pass over a gap
that a later commit fills. The lock is kept; what changes is how many commands each
holder writes.

How a batch forms: a thread that saves while no write is under way writes at once, with
whatever else is queued. A thread that saves while one is under way queues its events
and waits; when the write ends, the first waiter still queued writes everything queued
by then (the "leader"). Nobody sleeps to wait for company, so a lone command is written
as soon as before, and under load batches grow by themselves.

A command is acknowledged only after the transaction holding it committed. A batch in
which one aggregate lost a race (another request saved its version first, or took the
same seller: domain.seller_claims) fails as a whole in the database; each of its
commands is then written alone, so only the loser gets its conflict (409) and the others
are stored as if nothing happened.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from eventsourcing.application import Recording
from eventsourcing.persistence import IntegrityError

from service.connections import library_seam
from service.metrics import GROUP_COMMIT_SIZE

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Command:
    saves: list[tuple[Any, list[Any]]]  # (aggregate, its events): written together or not
    done: bool = False
    error: BaseException | None = None
    recordings: list[Recording] = field(default_factory=list)

    @property
    def events(self) -> list[Any]:
        return [e for _, events in self.saves for e in events]


class GroupCommit:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._changed = threading.Condition()
        self._queue: list[_Command] = []
        self._writing = False

    def save(self, aggregate: Any, *companions: Any) -> list[Recording]:
        """Records the aggregate's pending events, and its companions' (a connection's
        seller claim) in the same transaction, in a batch with whatever other threads
        save meanwhile; returns their recordings once committed. Raises IntegrityError
        when one of these aggregates' versions was taken, or what the store raised."""
        command = command_of(aggregate, *companions)
        if command is None:
            return []
        self.submit([command])
        if command.error is not None:
            raise command.error
        return command.recordings

    def submit(self, commands: list[_Command]) -> None:
        """Queues the commands and returns once every one of them is done (stored, or
        with its `error`): written by this thread as the batch's leader, or by another."""
        with self._changed:
            self._queue.extend(commands)
            while self._writing and not all(c.done for c in commands):
                self._changed.wait()
            leads = not all(c.done for c in commands)
            if leads:  # this thread leads: it writes everything queued
                self._writing = True
                batch, self._queue = self._queue, []
        if leads:
            try:
                self._write(batch)
            finally:
                for unfinished in (c for c in batch if not c.done):  # interrupted
                    unfinished.error = RuntimeError("the batch's write was interrupted")
                    unfinished.done = True
                with self._changed:
                    self._writing = False
                    self._changed.notify_all()

    def _write(self, batch: list[_Command]) -> None:
        """Writes the batch; every command in it ends done, stored or with its error."""
        try:
            recordings = self._record(batch)
        except IntegrityError as e:
            if len(batch) == 1:
                batch[0].error, batch[0].done = e, True
                return
            for command in batch:  # find the loser: each alone, in the order they came
                self._write([command])
            return
        except Exception as e:  # the store failed: each command fails as it would alone
            for command in batch:
                command.error, command.done = e, True
            return
        GROUP_COMMIT_SIZE.observe(len(batch))
        self._after(batch, recordings)
        start = 0
        for command in batch:
            command.recordings = recordings[start : start + len(command.events)]
            command.done = True
            start += len(command.events)

    def _record(self, batch: list[_Command]) -> list[Recording]:
        """One transaction for the whole batch, as the library's `Application.save` does
        for several aggregates."""
        return library_seam.record(self.app, _processing(batch))

    def _after(self, batch: list[_Command], recordings: list[Recording]) -> None:
        """What `Application.save` does after recording: snapshots, then its notify
        hook. The commands are committed by now: a snapshot that fails costs later loads
        a few events more, it does not fail them (nor send them to the fallback above)."""
        try:
            library_seam.after_recording(self.app, _processing(batch), recordings)
        except Exception:
            log.exception("snapshots after a committed batch failed; the batch stands")


def command_of(aggregate: Any, *companions: Any) -> _Command | None:
    """The aggregate's pending events and its companions', collected for one command;
    None when there is nothing to save."""
    saves = [(a, list(a.collect_events())) for a in (aggregate, *companions)]
    saves = [(a, events) for a, events in saves if events]
    return _Command(saves) if saves else None


class LoopBatcher:
    """Group commit for commands made on the event loop: no thread per request. Each
    command is queued on the loop; one task per loop writes what is queued with one hop
    to a thread (the library's store is synchronous: `GroupCommit.submit`, so these
    batches join those of threads saving at the same moment), and, while that write is
    under way, the next commands queue for the next hop. A lone command is written at
    once, as by a thread; each is acknowledged only once its transaction committed."""

    def __init__(self, group: GroupCommit, before_write: Any = None) -> None:
        self.group = group
        # Called in the writer's thread with the batch's events, before it is written
        # (the data keys the mapper will seal them with: see ConnectionsApp.store).
        self.before_write = before_write or (lambda events: None)
        self._queues: weakref.WeakKeyDictionary[Any, _LoopQueue] = weakref.WeakKeyDictionary()

    async def save(self, aggregate: Any, *companions: Any) -> list[Recording]:
        """As `GroupCommit.save`, awaited on the loop."""
        command = command_of(aggregate, *companions)
        if command is None:
            return []
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _LoopQueue()
        done = loop.create_future()
        queue.waiting.append((command, done))
        if queue.writer is None:
            queue.writer = loop.create_task(self._drain(queue))
        await asyncio.shield(done)  # a cancelled request does not cancel the write
        if command.error is not None:
            raise command.error
        return command.recordings

    async def _drain(self, queue: _LoopQueue) -> None:
        try:
            while queue.waiting:
                batch, queue.waiting = queue.waiting, []
                commands = [c for c, _ in batch]
                try:
                    await anyio.to_thread.run_sync(self._write, commands)
                except BaseException as e:
                    for c in commands:
                        if not c.done:
                            c.error, c.done = RuntimeError(f"the batch's write failed: {e!r}"), True
                    if not isinstance(e, Exception):
                        raise
                finally:
                    for _, done in batch:
                        if not done.done():
                            done.set_result(None)
        finally:
            queue.writer = None

    def _write(self, commands: list[_Command]) -> None:
        ready = []
        for command in commands:
            try:
                self.before_write(command.events)
            except Exception as e:  # that command fails as it would alone
                command.error, command.done = e, True
            else:
                ready.append(command)
        self.group.submit(ready)


@dataclass(eq=False)
class _LoopQueue:
    waiting: list[tuple[_Command, asyncio.Future[None]]] = field(default_factory=list)
    writer: asyncio.Task[None] | None = None


def _processing(batch: list[_Command]) -> Any:
    return library_seam.processing(save for c in batch for save in c.saves)
