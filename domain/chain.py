"""Tamper evidence: each connection's events form a hash chain.

Every event's `meta` carries `prev` (the previous event's hash, or GENESIS) and `hash`:
SHA-256 over `prev` and the event's canonical content (its name, connection, version,
time and fields). Changing any stored event changes its recomputed hash; re-sealing it
would change every later hash, which exported chain heads make visible.

Personal values (domain.personal) are sealed by commitment: an event recorded since
erasure exists lists them in `meta.pii` as `[path, commitment]`, and its canonical content
shows each of them as `"[personal]"`. The hash thus covers the commitments and everything
else, never the value itself, and it verifies the same whether the value can still be
decrypted or its key was destroyed. Events recorded before have no `meta.pii`: their hash
covers the plaintext, as it always did.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.personal import commit, with_path

GENESIS = "0" * 64
SEALED = "[personal]"
# Where the store keeps an event's sealed personal values (adapters.personal_mapper): in
# `meta`, beside the commitments that the hash covers, and not hashed itself.
ENVELOPE = "personal"
# Not hashed: the hash itself; the salts (in memory only, between the command and the
# mapper, never stored as they are); the envelope.
_UNSEALED_META = ("hash", "salts", ENVELOPE)


def _scalar(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(type(value).__name__)


# One encoder, made once (json.dumps with options builds one per call), in C: datetimes
# and UUIDs are written as text when met, rather than by copying the document first.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_scalar)


def _plain(value: Any) -> Any:
    """The document with every key as text: for the rare one whose keys are not."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def canonical(name: str, originator_id: UUID, version: int, fields: dict[str, Any]) -> bytes:
    """The bytes a hash commits to: stable across storage round trips, and across the
    encryption and the erasure of personal values."""
    meta = {k: v for k, v in fields.get("meta", {}).items() if k not in _UNSEALED_META}
    content = {k: v for k, v in fields.items() if k != "meta"}
    for path, _ in meta.get("pii") or ():
        content = with_path(content, tuple(path), SEALED)
    document = {
        "event": name,
        "connection": str(originator_id),
        "version": version,
        "meta": meta,
        "fields": content,
    }
    try:
        return _CANONICAL.encode(document).encode()
    except TypeError:  # a key that is not text: the same text, the slow way
        return _CANONICAL.encode(_plain(document)).encode()


def seal(
    name: str, originator_id: UUID, version: int, prev: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """The event's meta with `prev`, the commitments to its personal values (and, in
    memory, their salts) and its own `hash` added."""
    meta = {**fields["meta"], "prev": prev}
    sealed, salts = commit({k: v for k, v in fields.items() if k != "meta"})
    if sealed:
        meta["pii"], meta["salts"] = sealed, salts
    digest = hashlib.sha256(
        canonical(name, originator_id, version, {**fields, "meta": meta})
    ).hexdigest()
    return {**meta, "hash": digest}


def recompute(name: str, originator_id: UUID, version: int, fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(name, originator_id, version, fields)).hexdigest()
