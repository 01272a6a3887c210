"""Event positions a tenant sees: a keyed permutation of the store's positions, exact both
ways, 0 kept for "from the start", different for every tenant and key."""

from __future__ import annotations

from itertools import pairwise

import pytest

from adapters.event_positions import LARGEST, EventPositions

POSITIONS = EventPositions(b"k" * 32)


@pytest.mark.parametrize("position", [1, 2, 3, 1000, 10**9, 2**40 + 7, LARGEST])
def test_a_position_maps_back_exactly(position):
    shown = POSITIONS.hide("acme", position)
    assert 0 < shown <= LARGEST
    assert POSITIONS.reveal("acme", shown) == position


def test_zero_means_the_start_for_everyone():
    assert POSITIONS.hide("acme", 0) == 0 and POSITIONS.reveal("acme", 0) == 0


def test_consecutive_positions_look_unrelated_and_never_collide():
    shown = [POSITIONS.hide("acme", p) for p in range(1, 5001)]
    assert len(set(shown)) == 5000
    gaps = [abs(b - a) for a, b in pairwise(shown)]
    assert min(gaps) > 1000  # neighbours in the store are not neighbours here


def test_each_tenant_and_key_sees_its_own_numbers():
    assert POSITIONS.hide("acme", 42) != POSITIONS.hide("other", 42)
    assert POSITIONS.hide("acme", 42) != EventPositions(b"j" * 32).hide("acme", 42)
