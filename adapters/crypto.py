"""Secrets at rest and signed values.

Refresh tokens are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under a key ring:
the first key encrypts, every key decrypts, so keys rotate by prepending a new one and
re-encrypting at leisure. OAuth `state` values and API keys use HMAC-SHA256.

Personal values (domain.personal) are encrypted with AES-256-GCM under their connection's
own data key (`seal_value`), bound to where they sit (connection, path) as associated
data, so a ciphertext moved to another field or connection does not open. Data keys are
stored wrapped (Fernet) by a key derived from SECRET_KEY (adapters.data_keys).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class SecretBox:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise ValueError("ciphertext was not made with any configured key") from None

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypts under the newest key."""
        return self._fernet.rotate(ciphertext.encode()).decode()


class Signer:
    """Compact signed payloads: `<base64url json>.<base64url hmac>`."""

    def __init__(self, key: str) -> None:
        self._key = key.encode()

    def sign(self, payload: dict[str, Any]) -> str:
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{_b64(self._mac(body))}"

    def unsign(self, token: str) -> dict[str, Any] | None:
        """The payload, or None when the token is malformed or its signature is wrong."""
        body, _, mac = token.partition(".")
        try:
            if not hmac.compare_digest(_unb64(mac), self._mac(body)):
                return None
            payload = json.loads(_unb64(body))
        except (ValueError, TypeError):
            return None
        return payload if isinstance(payload, dict) else None

    def _mac(self, body: str) -> bytes:
        return hmac.new(self._key, body.encode(), hashlib.sha256).digest()


_VALUE_PREFIX = "pv1:"


@functools.lru_cache(maxsize=4096)
def _aead(key: bytes) -> AESGCM:
    return AESGCM(key)  # its key schedule, computed once per data key


def seal_value(key: bytes, where: str, plaintext: str) -> str:
    """`pv1:<base64url nonce + ciphertext + tag>`; `where` must be given again to open it.
    The nonce is synthetic (HMAC of where and plaintext under the key, as in SIV): the
    same value at the same place seals to the same bytes, so a rebuilt read model writes
    identical rows, and a nonce repeats only with its plaintext (which then repeats too).
    Events' values differ anyway: each carries a fresh salt (domain.personal)."""
    nonce = hmac.new(key, f"{where}\0{plaintext}".encode(), hashlib.sha256).digest()[:12]
    sealed = _aead(key).encrypt(nonce, plaintext.encode(), where.encode())
    return _VALUE_PREFIX + _b64(nonce + sealed)


def open_value(key: bytes, where: str, token: str) -> str:
    if not token.startswith(_VALUE_PREFIX):
        raise ValueError("not a sealed value")
    raw = _unb64(token[len(_VALUE_PREFIX) :])
    try:
        return _aead(key).decrypt(raw[:12], raw[12:], where.encode()).decode()
    except InvalidTag:
        raise ValueError("sealed value does not open with this key here") from None


def lookup_hash(pepper: bytes, value: str) -> str:
    """A keyed hash (HMAC-SHA256) for finding rows by a personal value without storing
    it: unlike a plain hash, nobody without the pepper can test guesses against it."""
    return "h1:" + hmac.new(pepper, value.encode(), hashlib.sha256).hexdigest()


def hash_api_key(key: str) -> str:
    """API keys are long random strings, so one SHA-256 (no salt, no stretching) is enough
    to make the stored value useless to a reader of the database."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_token(prefix: str, nbytes: int = 24) -> str:
    return f"{prefix}{secrets.token_urlsafe(nbytes)}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
