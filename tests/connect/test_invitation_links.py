"""An invitation link has exactly one spelling: no padded or re-encoded variant opens it."""

from __future__ import annotations

import base64
from uuid import uuid4

from service.connect.links import InvitationLinks

LINKS = InvitationLinks(b"k" * 32, "https://connect.example")
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def spellings_of(token: str) -> list[str]:
    """Every other string base64 decodes to the same bytes: the padded form, and the last
    character with other values in its unused low bits."""
    data = base64.urlsafe_b64decode(token + "=")
    last = ALPHABET.index(token[-1])
    others = [(last & ~0b11) | low for low in range(4) if (last & ~0b11) | low != last]
    variants = [token + "=", *(token[:-1] + ALPHABET[i] for i in others)]
    assert all(base64.urlsafe_b64decode(v + "=" * (-len(v) % 4)) == data for v in variants)
    return variants


def test_the_issued_token_opens_its_connection():
    connection_id = uuid4()
    assert LINKS.connection_id(LINKS.token(connection_id)) == connection_id


def test_no_other_spelling_of_a_token_opens_the_connection():
    connection_id = uuid4()
    token = LINKS.token(connection_id)
    variants = spellings_of(token)
    assert len(variants) == 4
    assert [LINKS.connection_id(v) for v in variants] == [None] * 4
