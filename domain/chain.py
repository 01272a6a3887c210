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
# In memory only, between the command and the mapper: never hashed, never stored as is.
_UNSEALED_META = ("hash", "salts")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
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
    return json.dumps(_plain(document), sort_keys=True, separators=(",", ":")).encode()


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
