"""The error catalogue, read once from `catalogue.yaml` beside this module and checked whole.

The file is the one source of what a seller or an API client is told for each code and of
the HTTP status that answers it. A malformed file stops the import with `CatalogueError`
naming the entry and the field, so a broken catalogue never reaches a running service.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from importlib import resources
from typing import Any

import yaml

WHO_ACTS: tuple[str, ...] = ("owner", "integrator", "amazon", "support", "service", "nobody")
SHOWN_ON: tuple[str, ...] = ("amazon", "service")
SECTIONS: tuple[str, ...] = ("seller_facing", "api_level")

_STATUSES = frozenset(s.value for s in HTTPStatus)
_CODE = re.compile(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*")
_SITUATION = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


class CatalogueError(ValueError):
    """The catalogue file does not hold what the service needs."""


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    code: str
    title: str
    message: str
    remediation: tuple[str, ...]
    who_acts: str
    retryable: bool
    http_status: int
    # What the service recognises the code from, and where the owner sees it ("amazon":
    # on Amazon's own page, never coming back; "service").
    recognised_from: str
    source_message: str | None = None
    source: str | None = None
    shown_on: str = "service"
    # The few situations answered with another status than `http_status`.
    http_status_when: Mapping[str, int] = field(default_factory=dict)

    def status(self, situation: str | None = None) -> int:
        """The HTTP status of a problem with this code, in `situation` if one is named."""
        return self.http_status_when.get(situation or "", self.http_status)

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "title": self.title,
            "message": self.message,
            "remediation": list(self.remediation),
            "who_acts": self.who_acts,
            "retryable": self.retryable,
            "http_status": self.http_status,
            "source_message": self.source_message,
            "source": self.source,
            "recognised_from": self.recognised_from,
            "shown_on": self.shown_on,
            "http_status_when": dict(self.http_status_when),
        }


def _text(value: Any) -> bool:
    return isinstance(value, str) and value != "" and value == value.strip()


def _problem_status(value: Any) -> bool:
    return type(value) is int and 400 <= value <= 599 and value in _STATUSES


def _steps(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(_text(step) for step in value)


def _situations(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and _SITUATION.fullmatch(k) and _problem_status(v)
        for k, v in value.items()
    )


# field -> (what it must be, the check); the first block is required in every entry.
_REQUIRED = {
    "code": ("an upper snake case code", lambda v: isinstance(v, str) and _CODE.fullmatch(v)),
    "title": ("text", _text),
    "message": ("text", _text),
    "remediation": ("a list of steps (text)", _steps),
    "who_acts": (f"one of {', '.join(WHO_ACTS)}", lambda v: v in WHO_ACTS),
    "retryable": ("true or false", lambda v: isinstance(v, bool)),
    "http_status": ("an HTTP error status (4xx or 5xx)", _problem_status),
    "recognised_from": ("text", _text),
}
_OPTIONAL = {
    "source": ("text", _text),
    "source_message": ("text", _text),
    "shown_on": (f"one of {', '.join(SHOWN_ON)}", lambda v: v in SHOWN_ON),
    "http_status_when": ("a map of lower snake case situations to statuses", _situations),
}


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe loading that refuses a key given twice (plain YAML keeps the last silently)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict:
        keys = [key.value for key, _ in node.value]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise CatalogueError(f"line {node.start_mark.line + 1}: {twice} given twice")
        return super().construct_mapping(node, deep=deep)


def _entry(raw: Any, where: str) -> CatalogueEntry:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: an entry must be a mapping of fields")
    where = f"{where} ({raw.get('code')})"
    unknown = sorted(set(raw) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise CatalogueError(f"{where}: unknown fields {unknown}")
    for name, (wanted, valid) in _REQUIRED.items():
        if name not in raw:
            raise CatalogueError(f"{where}: {name} is missing")
        if not valid(raw[name]):
            raise CatalogueError(f"{where}: {name} must be {wanted}, not {raw[name]!r}")
    for name, (wanted, valid) in _OPTIONAL.items():
        if name in raw and not valid(raw[name]):
            raise CatalogueError(f"{where}: {name} must be {wanted}, not {raw[name]!r}")
    if ("source" in raw) != ("source_message" in raw):
        raise CatalogueError(f"{where}: source and source_message come together")
    return CatalogueEntry(**{**raw, "remediation": tuple(raw["remediation"])})


def parse(text: str) -> dict[str, tuple[CatalogueEntry, ...]]:
    """Each section's entries, in the file's order; CatalogueError when anything is off."""
    try:
        document = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as e:
        raise CatalogueError(f"not YAML: {e}") from None
    if not isinstance(document, dict) or set(document) != set(SECTIONS):
        raise CatalogueError(f"the catalogue must hold exactly {', '.join(SECTIONS)}")
    sections: dict[str, tuple[CatalogueEntry, ...]] = {}
    seen: set[str] = set()
    for section in SECTIONS:
        raws = document[section]
        if not isinstance(raws, list) or not raws:
            raise CatalogueError(f"{section} must be a list of entries")
        entries = tuple(_entry(raw, f"{section}[{i}]") for i, raw in enumerate(raws))
        for e in entries:
            if e.code in seen:
                raise CatalogueError(f"{e.code} is listed twice")
            seen.add(e.code)
        sections[section] = entries
    if "INTERNAL_ERROR" not in seen:
        raise CatalogueError("INTERNAL_ERROR is missing: unknown codes read as it")
    return sections


def _with_stopped_causes(catalogue: dict[str, CatalogueEntry]) -> None:
    """The owner Amazon stops on its own page never comes back: the expired window's guide
    names those causes, so the owner can tell which one they met."""
    stopped = [e for e in catalogue.values() if e.shown_on == "amazon"]
    expired = catalogue["AUTHORIZATION_EXPIRED"]
    catalogue["AUTHORIZATION_EXPIRED"] = replace(
        expired,
        remediation=(
            *expired.remediation,
            "If Amazon showed a message instead of sending you back, it is one of these: "
            + "; ".join(f"{e.title} ({e.code}): {e.remediation[0]}" for e in stopped),
        ),
    )


_SECTIONS = parse(resources.files("domain").joinpath("catalogue.yaml").read_text("utf-8"))
SELLER_FACING: tuple[str, ...] = tuple(e.code for e in _SECTIONS["seller_facing"])
API_LEVEL: tuple[str, ...] = tuple(e.code for e in _SECTIONS["api_level"])
CATALOGUE: dict[str, CatalogueEntry] = {
    e.code: e for section in SECTIONS for e in _SECTIONS[section]
}
_with_stopped_causes(CATALOGUE)


def entry(code: str) -> CatalogueEntry:
    """The entry for `code`; an unknown code is our own fault, so it reads as INTERNAL_ERROR."""
    return CATALOGUE.get(code, CATALOGUE["INTERNAL_ERROR"])
