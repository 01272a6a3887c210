"""What text may become in a mail's headers: never a header of its own.

Python releases before 3.11.10 / 3.12.5 (CVE-2024-6923; this machine's 3.11.7 is one) decode
an RFC 2047 encoded-word given in a header value (`=?utf-8?q?Ann=0D=0ABcc:…?=`) and write the
decoded line break out unquoted, so a name could add `Bcc:` or `Reply-To:` headers. Three
locks, so that no release can: every text bound for a header loses its line breaks and has
each `=?` broken apart (it can no longer start an encoded-word); each address field holds
exactly one strictly parsed address; and the message is read back once built, refused unless
it holds exactly the headers it was given.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses

from service.api.edge.text import ADDRESS_PATTERN, refusal

ADDRESS = re.compile(ADDRESS_PATTERN)  # what the API accepts (service.api.schemas.Email)
# What a built message may carry, once each (compared case-insensitively).
HEADERS = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "auto-submitted",
    "mime-version",
    "content-type",
)
WORD_JOINER = "\u2060"  # invisible: "=⁠?" reads as "=?" and is no encoded-word


class UnrenderableMail(ValueError):
    """The mail cannot be built safely: it fails once, with this reason, and is not retried."""


def header_text(value: str) -> str:
    """`value` as it may appear inside a header: one line, with no encoded-word in it."""
    line = " ".join(value.splitlines())
    return line.replace("=?", f"={WORD_JOINER}?")


def single_address(value: str) -> str:
    """`value` when it is one plain address, else UnrenderableMail."""
    if refusal(value) is not None or not ADDRESS.fullmatch(value):
        raise UnrenderableMail("the recipient is not one plain e-mail address")
    found = getaddresses([value])
    if len(found) != 1 or found[0][1] != value:
        raise UnrenderableMail("the recipient is not one plain e-mail address")
    return value


def checked(message: EmailMessage) -> EmailMessage:
    """`message`, once its serialised headers are exactly the ones set: no header added by a
    value, none given twice, one recipient."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(message.as_bytes())
    names = [name.lower() for name in headers.keys()]
    if sorted(names) != sorted(HEADERS):
        extra = sorted(set(names) - set(HEADERS)) or sorted(n for n in names if names.count(n) > 1)
        raise UnrenderableMail(f"the built message has unexpected headers: {', '.join(extra)}")
    if len(getaddresses(headers.get_all("to", []))) != 1:
        raise UnrenderableMail("the built message has more than one recipient")
    return message
