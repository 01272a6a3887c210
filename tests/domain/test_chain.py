"""The hash chain's canonical form: what each event's hash commits to (SECURITY.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from domain.chain import GENESIS, canonical, recompute, seal

CONNECTION = UUID("6f1c2f4e-3b7a-4c1e-9d2a-1a2b3c4d5e6f")
AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def fields(**changes):
    base = {
        "meta": {"actor": "owner", "request_id": "req_1", "correlation_id": None},
        "timestamp": AT,
        "marketplace_ids": ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"],
        "attempt": UUID("00000000-0000-4000-8000-000000000001"),
    }
    return {**base, **changes}


def digest(**changes) -> str:
    return seal("Connection.AuthorizationStarted", CONNECTION, 2, GENESIS, fields(**changes))[
        "hash"
    ]


def test_the_canonical_form_is_fixed_so_stored_chains_keep_verifying():
    # Recorded once: any change to what a hash covers, or how, breaks every stored chain.
    assert digest() == "ee56addf1b73e9821a7774437c71085bb845f4889236499d46163ea98d39f7f7"


def test_every_value_inside_lists_and_ids_is_covered():
    assert digest(marketplace_ids=["ATVPDKIKX0DER", "A1F83G8C2ARO7P"]) != digest()
    assert digest(attempt=UUID("00000000-0000-4000-8000-000000000002")) != digest()


def test_recompute_matches_seal_and_ignores_the_hash_itself():
    meta = seal("Connection.AuthorizationStarted", CONNECTION, 2, GENESIS, fields())
    sealed = fields(meta=meta)
    assert recompute("Connection.AuthorizationStarted", CONNECTION, 2, sealed) == meta["hash"]
    assert recompute("Connection.AuthorizationStarted", CONNECTION, 3, sealed) != meta["hash"]
    assert recompute("Connection.Activated", CONNECTION, 2, sealed) != meta["hash"]


def test_an_event_without_meta_reads_as_one_with_empty_meta():
    bare = {k: v for k, v in fields().items() if k != "meta"}
    assert canonical("E", CONNECTION, 1, bare) == canonical(
        "E", CONNECTION, 1, {**bare, "meta": {}}
    )
