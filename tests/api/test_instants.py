"""One RFC 3339 parser (service.api.edge.instants.parse) behind the API's parameters, the
CLI's --now and the edge's calendar guard, each wording its refusals as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.exceptions import ValidationFailed
from service.api.edge.instants import BOUNDS, NotAnInstant, parse, refusal
from service.api.instants import instant
from service.workers.deadlines import parse_rfc3339

TAKEN = {
    "2026-01-31T12:00:00Z": datetime(2026, 1, 31, 12, tzinfo=UTC),
    "2026-01-31t12:00:00z": datetime(2026, 1, 31, 12, tzinfo=UTC),
    "2026-01-31T12:00:00.250+02:00": datetime(
        2026, 1, 31, 12, 0, 0, 250000, tzinfo=timezone(timedelta(hours=2))
    ),
    "2026-01-31 12:00:00-05:30": datetime(
        2026, 1, 31, 12, tzinfo=timezone(-timedelta(hours=5, minutes=30))
    ),
}
REFUSED = {
    "tomorrow": "format",
    "": "format",
    "2026-02-30T09:00:00Z": "format",
    "2026-01-31": "zone",
    "2026-01-31T12:00:00": "zone",
    "9999-12-31T23:59:59-14:00": "bounds",
    "0001-01-01T00:00:00+14:00": "bounds",
}


@pytest.mark.parametrize("text", list(TAKEN))
def test_the_api_and_the_cli_read_the_same_instant_from_the_same_text(text: str) -> None:
    assert parse(text) == instant("as_of", text) == parse_rfc3339(text) == TAKEN[text]


@pytest.mark.parametrize("text", list(REFUSED))
def test_the_api_and_the_cli_refuse_the_same_texts_for_the_same_reason(text: str) -> None:
    with pytest.raises(NotAnInstant) as refused:
        parse(text)
    assert refused.value.reason == REFUSED[text]
    with pytest.raises(ValidationFailed):
        instant("as_of", text)
    with pytest.raises(ValueError):
        parse_rfc3339(text)


def test_the_api_words_each_refusal_as_it_always_has() -> None:
    def detail(text: str) -> str:
        with pytest.raises(ValidationFailed) as refused:
            instant("as_of", text)
        return refused.value.detail

    assert (
        detail("last tuesday") == "as_of must be an RFC 3339 timestamp, e.g. 2026-01-31T12:00:00Z."
    )
    assert detail("2026-01-05T09:00:00") == "as_of must include a time zone (Z or ±hh:mm)."
    assert detail("9999-12-31T23:59:59Z") == f"as_of must be an instant {BOUNDS}."


def test_the_cli_words_each_refusal_as_it_always_has() -> None:
    expected = "--now expects an RFC 3339 timestamp with a time zone, such as 2026-01-05T09:00:00Z"

    def message(text: str) -> str:
        with pytest.raises(ValueError) as refused:
            parse_rfc3339(text)
        return str(refused.value)

    assert message("tomorrow") == f"{expected} (got 'tomorrow')"
    assert message("2026-01-19") == f"{expected} (got '2026-01-19')"
    assert message("2026-02-30T09:00:00Z") == (
        f"{expected} (got '2026-02-30T09:00:00Z'): day is out of range for month"
    )
    assert message("9999-12-31T23:59:59-14:00") == (
        f"--now must be an instant {BOUNDS} (got '9999-12-31T23:59:59-14:00')"
    )


def test_the_guard_refuses_only_instants_at_the_calendars_ends() -> None:
    assert refusal(" 9999-12-31T23:59:59-14:00") == f"must be an instant {BOUNDS}"
    for text in ("2026-01-31T12:00:00Z", "2026-01-31T12:00:00", "2026-02-30T09:00", "note"):
        assert refusal(text) is None
