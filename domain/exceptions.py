"""Domain exceptions. Each carries a catalogue `code`; the edge maps them to problems."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refused command, named by a catalogue code, with a human `detail`.

    Its HTTP status is the catalogue's for the code; `situation` names one of the few the
    catalogue answers otherwise (`http_status_when`), so no raiser states a number.
    """

    code = "INTERNAL_ERROR"

    def __init__(
        self, detail: str, *, code: str | None = None, situation: str | None = None, **extra: Any
    ) -> None:
        if "status" in extra:
            raise TypeError("a problem's status comes from the catalogue: name a situation")
        super().__init__(detail)
        if code is not None:
            self.code = code
        self.detail = detail
        self.situation = situation
        self.extra = extra


class NotFound(DomainError):
    code = "NOT_FOUND"


class InvalidTransition(DomainError):
    code = "INVALID_TRANSITION"

    def __init__(self, trigger: str, state: str, allowed: list[str], reason: str = "") -> None:
        detail = f"'{trigger}' is not allowed while the connection is '{state}'"
        detail += f": {reason}." if reason else "."
        super().__init__(detail, trigger=trigger, state=state, allowed_actions=allowed)


class ApiAuthorizationRequired(DomainError):
    code = "API_AUTHORIZATION_REQUIRED"


class VersionConflict(DomainError):
    code = "VERSION_CONFLICT"


class ValidationFailed(DomainError):
    code = "VALIDATION_ERROR"
