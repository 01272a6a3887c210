"""Which recorded values name or reach a person (SPEC §14), and how each is sealed.

A connection's personal values are the owner's e-mail, the inviter's name and e-mail, the
tenant's metadata values and the error texts (Amazon's among them). They sit at the same
few places in every event and in the aggregate's state, so one list of paths serves the
events, the snapshots and the read model.

Each personal value of an event is committed to, not hashed: `commitment` is SHA-256 over
the path, a fresh 128-bit random salt and the value. The chain (domain.chain) seals the
commitments; the salt travels with the value, encrypted, and dies with it. Without the
salt a commitment cannot be tested against guesses, so it is not personal data itself.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from typing import Any

ERASED = "[erased]"
# json.dumps with options builds an encoder per call; one, made once, writes the same text.
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
Path = tuple[str, ...]

# Error texts: the `detail` of an event's `error` or `warning`, and of the state's
# `last_error` and `warning`.
_ERROR_HOLDERS = ("error", "last_error", "warning")


def personal_paths(fields: dict[str, Any]) -> Iterator[Path]:
    """The paths of `fields` (an event's or the aggregate's state) that hold personal values."""
    if "owner_email" in fields:
        yield ("owner_email",)
    invited_by = fields.get("invited_by")
    if isinstance(invited_by, dict):
        for key in ("name", "email"):
            if key in invited_by:
                yield ("invited_by", key)
    metadata = fields.get("metadata")
    if isinstance(metadata, dict):
        for key in metadata:
            yield ("metadata", key)
    for holder in _ERROR_HOLDERS:
        error = fields.get(holder)
        if isinstance(error, dict) and "detail" in error:
            yield (holder, "detail")


def get_path(fields: dict[str, Any], path: Path) -> Any:
    value: Any = fields
    for key in path:
        value = value[key]
    return value


def with_path(fields: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    """A copy of `fields` with `value` at `path`; the dicts on the way are copied, never
    changed (they may be shared with a live event or aggregate)."""
    head, *rest = path
    copy = dict(fields)
    copy[head] = with_path(fields[head], tuple(rest), value) if rest else value
    return copy


def erased(fields: dict[str, Any]) -> dict[str, Any]:
    """A copy of `fields` with every personal value that is set replaced by ERASED."""
    for path in list(personal_paths(fields)):
        if get_path(fields, path) is not None:
            fields = with_path(fields, path, ERASED)
    return fields


def commitment(path: Path, salt: str, value: Any) -> str:
    document = _COMPACT.encode([list(path), salt, value])
    return hashlib.sha256(document.encode()).hexdigest()


def commit(fields: dict[str, Any]) -> tuple[list[list[Any]], list[str]]:
    """For each personal string of a new event: `[path, commitment]`, and its salt (in the
    same order). The salts stay in memory until the mapper encrypts them with the values."""
    found = [(p, v) for p in personal_paths(fields) if isinstance(v := get_path(fields, p), str)]
    # 128 random bits a value, drawn at once: the system call, not the bits, is what costs.
    drawn = secrets.token_hex(16 * len(found))
    salts = [drawn[32 * i : 32 * (i + 1)] for i in range(len(found))]
    sealed = [
        [list(path), commitment(path, salt, value)]
        for (path, value), salt in zip(found, salts, strict=True)
    ]
    return sealed, salts


def erased_everywhere(document: Any) -> Any:
    """A JSON document (a webhook body, an event as history shows it) with the personal
    values of every object in it erased: the connection and the event it carries alike."""
    if isinstance(document, dict):
        return {k: erased_everywhere(v) for k, v in erased(document).items()}
    if isinstance(document, list):
        return [erased_everywhere(v) for v in document]
    return document
