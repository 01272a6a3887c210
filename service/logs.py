"""Structured logs: JSON lines in production (`LOG_FORMAT=json`), readable in a terminal.

Every line written while a request is handled, by structlog or by plain `logging`, carries
the request's `request_id`, `tenant`, `connection_id` and `action`. Values under
secret-sounding keys, bearer tokens, API keys and database passwords are masked.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from io import StringIO
from typing import IO, Any

import msgspec
import structlog

from service.settings import Settings

MASK = "********"
_SECRET_KEY = re.compile(
    r"secret|token|passw|\bauthorization\b|api_key|apikey|cookie|credential|encryption_key"
    r"|oauth_code|signature",
    re.IGNORECASE,
)
_SECRET_TEXT = [
    (re.compile(r"(?i)\b(bearer)\s+\S+"), rf"\1 {MASK}"),
    (re.compile(r"\b(sk|whsec)_[A-Za-z0-9_\-+/=]{8,}"), rf"\1_{MASK}"),
    # Greedy up to the netloc's last @: a password may hold an @ of its own.
    (re.compile(r"(//[^:/@\s]+):[^\s/?#]*@"), rf"\1:{MASK}@"),
    # Amazon's LWA refresh (Atzr|) and access (Atza|) tokens, wherever they show up.
    (re.compile(r"\b(Atz[ra])\|[^\s\"',)\]}]+"), rf"\1|{MASK}"),
    # URLs' query parameters: OAuth codes, signed states, tokens.
    (
        re.compile(
            r"(?i)([?&](?:\w*code|\w*token|state|\w*secret|signature|password)=)"
            r"[^&#\s\"']+"
        ),
        rf"\1{MASK}",
    ),
]
# Their INFO lines are whole outbound URLs; warnings and errors still show.
# alembic narrates every step at INFO; `connections migrate` says what it applied itself.
_QUIET = ("httpx", "httpcore", "alembic")


RequestFields = Callable[[], Mapping[str, Any]]
_current: ContextVar[RequestFields | None] = ContextVar("request_fields", default=None)


def enter_request(fields: RequestFields) -> Token:
    """Every line logged until `leave_request` carries `fields()`, read at each line: the
    router and the auth guard fill the request in (connection id, tenant) as it goes."""
    return _current.set(fields)


def leave_request(token: Token) -> None:
    _current.reset(token)


def add_request_context(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    fields = _current.get()
    if fields is not None:
        for key, value in fields().items():
            if value is not None:
                event.setdefault(key, value)
    return event


_QUERY_WORD = re.compile(r"[?&]\w")


def _maybe_secret(text: str) -> bool:
    """Whether `text` holds what one of the patterns above needs: "bearer", "sk_",
    "whsec_", "atzr|" or "atza|" in any case, an "@", or a "?" or "&" before a word
    character. Most log text has none and is passed at once. Tested by substring, not
    by one case-insensitive alternation, which tried every branch at every position
    (7 µs for a proxied call's path; 19 µs of every access line)."""
    if "@" in text or (("?" in text or "&" in text) and _QUERY_WORD.search(text)):
        return True
    low = text.lower()
    return "bearer" in low or "sk_" in low or "whsec_" in low or "atzr|" in low or "atza|" in low


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        if not _maybe_secret(value):
            return value
        for pattern, replacement in _SECRET_TEXT:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, dict):
        return {
            k: MASK if value[k] and _SECRET_KEY.search(str(k)) else _scrub(value[k]) for k in value
        }
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    return _scrub(event)


# Until `configure` runs (tests, `connections demo`, one-shot commands), structlog lines go to
# the standard library as key=value text, like any other log line: never to stdout.
structlog.configure(
    processors=[
        structlog.stdlib.filter_by_level,
        add_request_context,
        redact,
        structlog.processors.KeyValueRenderer(key_order=["event"]),
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=False,
)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _: IO[str]) -> None:
        pass


def _plain_traceback(exc_info: Any) -> str:
    """The traceback without local variables: what every format shows by default."""
    return "".join(traceback.format_exception(*exc_info)).rstrip()


def _traceback_with_locals(exc_info: Any) -> str:
    """LOG_TRACEBACK_LOCALS=1, for debugging: rich's traceback with each frame's local
    variables, rendered to text first so that `redact` still masks what it can see."""
    out = StringIO()
    structlog.dev.RichTracebackFormatter(show_locals=True, color_system=None, width=120)(
        out, exc_info
    )
    return out.getvalue().rstrip()


def configure(
    log_format: str = "console",
    level: str = "INFO",
    stream: IO[str] | None = None,
    traceback_locals: bool = False,
) -> None:
    """Routes structlog and the standard library (uvicorn included) through one handler.

    Exceptions become text before `redact` runs, in every format: a renderer that formats
    them itself (the console's, with local variables) would print what was never masked."""
    shared = [
        structlog.contextvars.merge_contextvars,
        add_request_context,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,  # configure() may run again (tests, `serve` reload)
    )
    exceptions = structlog.processors.ExceptionRenderer(
        _traceback_with_locals if traceback_locals else _plain_traceback
    )
    renderer = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=(stream or sys.stderr).isatty())
    )
    tail: list[Any] = [exceptions, redact, renderer]
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(
        _AccessFormatter(
            structlog.stdlib.ProcessorFormatter(
                foreign_pre_chain=shared,
                processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail],
            ),
            log_format,
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    _OURS[:] = [handler]
    root.setLevel(level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if logger.handlers:  # uvicorn's own; an access log switched off has none
            logger.handlers = []
            logger.propagate = True


ACCESS = logging.getLogger("service.http")
_OURS: list[logging.Handler] = []  # the handler `configure` installed, while it is alone


def access(level: int, fields: dict[str, Any]) -> None:
    """The access line, one per request: its fields (and the request's context) are
    rendered once by `_AccessFormatter`, not passed through the processor chain that
    other lines take; what it masks is masked the same way. While the handler `configure`
    installed is the only one that would see it, the line is written straight to that
    handler's stream (and flushed, as the handler would), without building a log record:
    that record and its dispatch were two thirds of the line's cost."""
    if not ACCESS.isEnabledFor(level):
        return
    context = _current.get()
    if context is not None:
        for key, value in context().items():
            if value is not None:
                fields.setdefault(key, value)
    root = logging.root
    if _OURS and not ACCESS.handlers and root.handlers == _OURS and ACCESS.propagate:
        handler = _OURS[0]
        line = handler.formatter.line(fields, level, time.time())  # type: ignore[union-attr]
        handler.acquire()
        try:
            stream = handler.stream  # type: ignore[attr-defined]
            stream.write(line + handler.terminator)  # type: ignore[attr-defined]
            stream.flush()
        except Exception:
            handler.release()
            ACCESS.handle(_access_record(level, fields))  # the handler reports its own error
            return
        handler.release()
        return
    ACCESS.handle(_access_record(level, fields))


def _access_record(level: int, fields: dict[str, Any]) -> logging.LogRecord:
    record = ACCESS.makeRecord(ACCESS.name, level, __file__, 0, _AccessText(fields), (), None)
    record.access_fields = fields
    return record


class _AccessText:
    """The access line's message for handlers other than ours (a test's log capture):
    key=value text, masked, rendered only if someone reads it."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields

    def __str__(self) -> str:
        shown = " ".join(f"{k}={_scrub(v)!r}" for k, v in sorted(self.fields.items()))
        return f"event='request' {shown}"


class _AccessFormatter(logging.Formatter):
    """Renders access records in the handler's format (JSON or the console's key=value),
    everything else with the structlog formatter it wraps."""

    def __init__(self, inner: logging.Formatter, log_format: str) -> None:
        super().__init__()
        self.inner = inner
        self.json = log_format == "json"
        self._second = -1
        self._prefix = ""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "access_fields", None)
        if fields is None:
            return self.inner.format(record)
        return self.line(fields, record.levelno, record.created)

    def line(self, fields: dict[str, Any], level_number: int, created: float) -> str:
        fields = {k: _scrub(v) if isinstance(v, str) else v for k, v in fields.items()}
        level = logging.getLevelName(level_number).lower()
        at = self._instant(created)
        if self.json:
            line = {"event": "request", **fields, "level": level, "logger": ACCESS.name}
            return _JSON.encode({**line, "timestamp": at}).decode()
        pairs = " ".join(f"{k}={v}" for k, v in sorted(fields.items()))
        return f"{at} [{level:<9}] {'request':<30} [{ACCESS.name}] {pairs}"

    def _instant(self, created: float) -> str:
        """RFC 3339 in UTC with microseconds; the calendar part once per second."""
        second = int(created)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._prefix}.{int((created - second) * 1_000_000):06d}Z"


_JSON = msgspec.json.Encoder()


def log_start(settings: Settings, role: str, **details: Any) -> None:
    """Configures logging from the settings and logs the effective configuration, masked."""
    configure(
        settings.log_format, settings.log_level, traceback_locals=settings.log_traceback_locals
    )
    structlog.get_logger("service").info(
        f"{role} starting", role=role, **details, config=settings.masked()
    )
