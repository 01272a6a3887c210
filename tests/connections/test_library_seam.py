"""The seam to eventsourcing's private methods (service.connections.library_seam): if an
upgrade renames them, changes their parameters, or `Application.save` stops being exactly
record, snapshots, notify, these fail before group commit does."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any, ClassVar

from eventsourcing.application import Application, ProcessingEvent, Repository
from eventsourcing.domain import Aggregate, event

from service.connections import library_seam

SERVICE = Path(__file__).resolve().parents[2] / "service"
SEAM = SERVICE / "connections" / "library_seam.py"


class Counter(Aggregate):
    def __init__(self) -> None:
        self.count = 0

    @event("Counted")
    def count_one(self) -> None:
        self.count += 1


class Spied(Application[Any]):
    snapshotting_intervals: ClassVar = {Counter: 2}

    def __init__(self) -> None:
        super().__init__(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.calls: list[tuple[str, Any]] = []
        self.notified: list[Any] = []

    def _record(self, processing_event):
        self.calls.append(("_record", processing_event))
        return super()._record(processing_event)

    def _take_snapshots(self, processing_event):
        self.calls.append(("_take_snapshots", processing_event))
        super()._take_snapshots(processing_event)

    def _notify(self, recordings):
        self.calls.append(("_notify", recordings))
        self.notified.extend(recordings)


def parameters(method: Any) -> list[str]:
    return list(inspect.signature(method).parameters)


def test_the_private_methods_the_seam_calls_keep_their_signatures():
    assert parameters(Application._record) == ["self", "processing_event"]
    assert parameters(Application._take_snapshots) == ["self", "processing_event"]
    assert parameters(Application._notify) == ["self", "recordings"]
    assert parameters(ProcessingEvent.collect_events) == ["self", "objs", "kwargs"]
    assert parameters(Repository._use_fastforward_lock) == ["self", "aggregate_id"]
    assert parameters(Repository._disuse_fastforward_lock) == ["self", "aggregate_id"]
    assert isinstance(ProcessingEvent().aggregates, dict)
    assert ProcessingEvent().events == []


def test_the_unit_holds_the_events_the_librarys_collect_events_would():
    # processing() appends the events itself instead of calling collect_events.
    counter = Counter()
    counter.count_one()
    events = list(counter.collect_events())
    library = ProcessingEvent()
    library.collect_events(*events)

    unit = library_seam.processing([(counter, events)])

    assert unit.events == library.events == events
    assert unit.aggregates == {counter.id: counter}


def test_the_librarys_save_is_exactly_record_then_snapshots_then_notify():
    app = Spied()
    app.save(Counter())
    assert [name for name, _ in app.calls] == ["_record", "_take_snapshots", "_notify"]
    (_, unit), (_, same), (_, recordings) = app.calls
    assert unit is same
    assert len(recordings) == 1


def test_record_stores_every_aggregate_of_the_unit_in_one_call_and_answers_its_recordings():
    app = Spied()
    one, two = Counter(), Counter()
    two.count_one()
    saves = [(one, list(one.collect_events())), (two, list(two.collect_events()))]

    recordings = library_seam.record(app, library_seam.processing(saves))

    assert [name for name, _ in app.calls] == ["_record"]
    assert [
        (r.domain_event.originator_id, r.domain_event.originator_version) for r in recordings
    ] == [
        (one.id, 1),
        (two.id, 1),
        (two.id, 2),
    ]
    assert [r.notification.id for r in recordings] == [1, 2, 3]
    assert app.repository.get(two.id).count == 1
    assert app.notified == []  # nothing follows the recording until after_recording


def test_after_recording_takes_due_snapshots_then_calls_the_notify_hook():
    app = Spied()
    counter = Counter()
    counter.count_one()  # version 2: a snapshot is due at the interval of 2
    unit = library_seam.processing([(counter, list(counter.collect_events()))])
    recordings = library_seam.record(app, unit)

    library_seam.after_recording(app, unit, recordings)

    assert [name for name, _ in app.calls] == ["_record", "_take_snapshots", "_notify"]
    assert app.notified == recordings
    snapshots = list(app.snapshots.get(counter.id))
    assert [s.originator_version for s in snapshots] == [2]


def test_no_module_but_the_seam_calls_the_librarys_private_methods():
    private = re.compile(
        r"\bapp\s*\.\s*_(record|take_snapshots|notify)\b|_(use|disuse)_fastforward_lock\b"
    )
    callers = [
        f"{path.relative_to(SERVICE.parent)}:{number}"
        for path in sorted(SERVICE.rglob("*.py"))
        if path != SEAM
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if private.search(line)
    ]
    assert callers == []
