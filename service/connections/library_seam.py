"""The one place that calls eventsourcing's private methods: `Application.save` cut in two.

Group commit (service.connections.group_commit) writes the commands of several threads in
one transaction, then acknowledges them: it needs the library's `save` in two steps, first
the recording, then what follows it. eventsourcing 9.5's `Application.save` is exactly
`_record`, `_take_snapshots`, `_notify` (and the deprecated public `notify`, which this
service does not implement), and offers no public way to take the steps apart. So this
module is the seam: nothing else touches the library's insides, and
tests/connections/test_library_seam.py pins the three methods' signatures and behaviour,
so that an upgrade that changes them fails there first.

The repository's fast-forward lock is the other private part used here: a copy of a
cached aggregate taken under it is of one version (`fastforward_lock`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.application import Application, ProcessingEvent, Recording


def processing(saves: Iterable[tuple[Any, list[Any]]]) -> ProcessingEvent:
    """The library's unit of saving for (aggregate, its collected events) pairs, as
    `Application.save` builds it for several aggregates."""
    unit: ProcessingEvent = ProcessingEvent()
    for aggregate, events in saves:
        # What `collect_events(*events)` does with domain events, without its check of
        # each against a runtime Protocol (an isinstance that walks the protocol's
        # members: 1 % of a create's server time).
        unit.events.extend(events)
        unit.aggregates[aggregate.id] = aggregate
    return unit


def record(app: Application, unit: ProcessingEvent) -> list[Recording]:
    """Writes the unit's events in one transaction (and puts its aggregates in the
    repository's cache, where one is configured); raises what the store raised."""
    return app._record(unit)


def after_recording(app: Application, unit: ProcessingEvent, recordings: list[Recording]) -> None:
    """What `save` does once the events are stored: snapshots where an interval is due,
    then the application's `_notify` hook."""
    app._take_snapshots(unit)
    app._notify(recordings)


@contextmanager
def fastforward_lock(app: Application, aggregate_id: Any) -> Iterator[None]:
    """Held while the library's repository brings a cached aggregate up to the store's
    version in place (`Repository.get`, which sets the version last): a copy taken under
    it is of one version, never of one half brought up to the next. (The library's own
    copy in `get` is taken after it lets go: the loader asks `get` for the cached object
    uncopied and copies it under this lock.) Blocking: for threads, not the event loop."""
    repository = app.repository
    lock = repository._use_fastforward_lock(aggregate_id)
    try:
        with lock:
            yield
    finally:
        repository._disuse_fastforward_lock(aggregate_id)
