"""What a string from outside may hold: one rule for every string the service accepts.

Refused everywhere: C0 and C1 control characters (NUL included) other than tab and line
breaks, lone surrogates, Unicode noncharacters, and the bidirectional embeddings,
overrides and isolates that make text display in another order than it is stored
("Trojan Source", CVE-2021-42574). PostgreSQL refuses NUL in text; the rest would reach
logs, pages, mail and exports. A *line* (every query, path and callback parameter, header
and CLI argument, and a body field typed `Line`) holds no line break or tab either.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from msgspec import Meta

# Far above any field's own cap (the body is capped at MAX_BODY_BYTES anyway); stops a
# megabyte in a query string or an untyped field.
MAX_CHARS = 8192

# Written as regex escapes (raw strings), so the pattern reads the same in the OpenAPI schema.
_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_BIDI = r"\u202a-\u202e\u2066-\u2069"
_NOT_CHARACTERS = r"\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
_BREAKS = r"\t\n\r\u2028\u2029"
_BREAK_CHARACTERS = "\t\n\r\u2028\u2029"
_IN_TEXT = re.compile(f"[{_CONTROLS}{_BIDI}{_NOT_CHARACTERS}]")
_IN_LINE = re.compile(f"[{_CONTROLS}{_BIDI}{_NOT_CHARACTERS}{_BREAKS}]")

# One plain addr-spec: no display name, list, quoting or encoded-word (`=?`), so an address
# never becomes a second recipient or a header of its own (service.mail.headers).
ADDRESS_PATTERN = (
    r"^(?!.*=\?)[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
# Amazon's selling partner ids are upper-case alphanumerics (SPEC §12): anything else, a
# lower-case copy included, is refused, so one seller is never two.
SELLING_PARTNER_ID_PATTERN = r"^[A-Z0-9]{1,32}$"
LINE_PATTERN = f"^[^{_CONTROLS}{_BIDI}{_NOT_CHARACTERS}{_BREAKS}]*$"
# A body field that must be one line (a name, a subject): the guard's rule for text, plus
# no line breaks, stated in the OpenAPI schema.
Line = Annotated[str, Meta(pattern=LINE_PATTERN)]


def refusal(value: str, *, line: bool = True, max_chars: int = MAX_CHARS) -> str | None:
    """Why `value` may not cross the edge, or None when it may."""
    if len(value) > max_chars:
        return f"is longer than {max_chars} characters"
    bad = (_IN_LINE if line else _IN_TEXT).search(value)
    if bad is not None:
        return f"contains U+{ord(bad.group()):04X}, which is not allowed here"
    return None


def normalised(value: str) -> str:
    """NFC: the same text in one form, so identifiers compare as a person reads them."""
    return value if value.isascii() else unicodedata.normalize("NFC", value)


def sanitised(value: str, max_chars: int = 500) -> str:
    """Text from a third party (Amazon's error_description): kept, but only what is safe
    to store and show: control and format characters (bidi marks and overrides,
    zero-width characters) dropped, lone surrogates too, one line, capped."""
    kept = (
        " " if ch in _BREAK_CHARACTERS else ch
        for ch in value
        if ch in _BREAK_CHARACTERS or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Cn")
    )
    text = " ".join(normalised("".join(kept)).split())
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"
