"""Configuration, from environment variables (and an optional `.env`), validated once at start.

A wrong or missing value stops the process with one line naming the variable and what is
expected (`ConfigError`). Secrets are kept out of `repr` and out of `masked()`. The process
environment wins over `.env`; `ENV_FILE` names another file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from adapters.eventstore import DatabaseUrlError, eventsourcing_env
from adapters.special_addresses import is_loopback
from domain.connection import Durations


class ConfigError(ValueError):
    def __init__(self, variable: str, expected: str, value: str | None = None) -> None:
        shown = "" if value is None else f" (got {value!r})"
        super().__init__(f"{variable}: expected {expected}{shown}")
        self.variable = variable


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///var/connections.db"
    public_base_url: str = "http://127.0.0.1:8000"
    sandbox: bool = True
    # Sandbox by default (no SANDBOX, no LWA credentials), not by choice: served only on a
    # loopback address, where nobody else can read /sandbox/mail's invitation links.
    sandbox_implicit: bool = False
    spapi_application_id: str = ""
    lwa_client_id: str = ""
    lwa_client_secret: str = field(default="", repr=False)
    # LWA_CLIENT_SECRETS during a rotation: the newest is lwa_client_secret, these are older.
    lwa_older_client_secrets: tuple[str, ...] = field(default=(), repr=False)
    lwa_client_secret_expires_at: datetime | None = None
    # The Ads API's own LWA security profile; empty means the SP-API app's LWA client.
    ads_client_id: str = ""
    ads_client_secret: str = field(default="", repr=False)
    spapi_draft_app: bool = False
    secret_key: str = field(default="", repr=False)
    # Former SECRET_KEYs during a rotation: data keys wrapped under them still open until
    # `connections keys rewrap` has wrapped them again (README, "Rotating SECRET_KEY").
    previous_secret_keys: tuple[str, ...] = field(default=(), repr=False)
    # Disconnected connections erased automatically this long after they ended (SPEC §14);
    # None: never (the default).
    erase_after_disconnect: timedelta | None = None
    encryption_keys: tuple[str, ...] = field(default=(), repr=False)
    webhook_allow_private: bool = False
    # How long finished webhook deliveries, their attempts and delivered events are kept.
    webhook_retention: timedelta = timedelta(days=30)
    # LWA's token endpoint, when not the real one (or the sandbox's): a test peer, a relay.
    lwa_token_url: str = ""
    # The Ads API's regional LWA token endpoints, by region, where not Amazon's own.
    ads_token_urls: dict[str, str] = field(default_factory=dict)
    # How long the access log (tokens issued, calls proxied to Amazon) is kept.
    access_log_retention: timedelta = timedelta(days=365)
    run_worker: bool = True
    # Apply pending migrations when a process starts instead of refusing to (sandbox default).
    migrate_on_start: bool = False
    durations: Durations = Durations()
    max_body_bytes: int = 64 * 1024
    # The HTTP connection's own limits (service.api.edge.http): request line and headers, their
    # count, and how long a request's head and body may take to arrive.
    max_header_bytes: int = 16 * 1024
    max_headers: int = 100
    http_head_timeout: timedelta = timedelta(seconds=10)
    http_body_timeout: timedelta = timedelta(seconds=30)
    # Per API key, in this process (a token bucket): the sustained rate and the burst a
    # key may spend at once. 0 requests per second turns the limit off.
    rate_limit_per_second: float = 100.0
    rate_limit_burst: int = 200
    pool_size: int = 10
    log_format: str = "console"
    log_level: str = "INFO"
    # Local variables in logged tracebacks: for debugging only (masked as far as the log
    # scrubber recognises secrets, which is not everything a frame may hold).
    log_traceback_locals: bool = False
    # /readyz: how far the read model may trail the event store, and how long the embedded
    # worker may go without finishing a pass, before the process reports "not ready".
    readyz_max_lag: int = 1000
    worker_stale_after: timedelta = timedelta(seconds=30)
    # `connections worker` serves /metrics on this port when set (the API serves its own).
    metrics_port: int = 0
    # The integrator's own Seller Central user that owners invite (ChannelAdvisor's step 1).
    seller_central_user_email: str = "seller-central@integrator.example"
    # E-mail to owners (SPEC §10): without SMTP_URL, sandbox mode keeps mails for /sandbox/mail.
    smtp_url: str = field(default="", repr=False)
    mail_from: str = "Amazon connections <no-reply@connections.invalid>"

    @property
    def eventsourcing_env(self) -> dict[str, str]:
        return eventsourcing_env(self.database_url, pool_size=self.pool_size)

    @property
    def state_signing_key(self) -> str:
        return _derive(self.secret_key, "oauth-state").hex()

    @property
    def event_positions_key(self) -> bytes:
        return _derive(self.secret_key, "event-positions")

    @property
    def invitation_key(self) -> bytes:
        return _derive(self.secret_key, "invitation")

    @property
    def owner_session_key(self) -> bytes:
        """Signs the owner's session cookie and the Login URI's e-mailed continue links."""
        return _derive(self.secret_key, "owner-session")

    @property
    def console_key(self) -> bytes:
        """Signs the console's e-mailed sign-in links (service.console)."""
        return _derive(self.secret_key, "console")

    @property
    def data_key_wrapping_keys(self) -> list[bytes]:
        """Wraps each connection's data key: the current SECRET_KEY's first (it wraps),
        then the previous ones' (they only unwrap)."""
        secrets = (self.secret_key, *self.previous_secret_keys)
        return [_derive(secret, "data-keys") for secret in secrets]

    @property
    def owner_email_pepper(self) -> bytes:
        """Keys the read model's hash of `owner_email` (its `owner_email` filter)."""
        return _derive(self.secret_key, "owner-email-lookup")

    @property
    def fernet_keys(self) -> list[str]:
        """ENCRYPTION_KEYS first (the first encrypts); the key derived from SECRET_KEY
        last, so tokens written before ENCRYPTION_KEYS was set still decrypt."""
        derived = base64.urlsafe_b64encode(_derive(self.secret_key, "fernet")).decode()
        return [*self.encryption_keys, derived]

    def masked(self) -> dict[str, Any]:
        """The effective configuration, secrets replaced by a marker."""
        shown: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name in _SECRET_FIELDS:
                value = "********" if value else ""
            elif isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, Durations):
                value = {k: str(getattr(value, k)) for k in value.__dataclass_fields__}
            shown[name] = value
        shown["database_url"] = re.sub(
            r"(?i)(password=)[^&]*",
            r"\1********",
            # Greedy to the netloc's last @: a password may hold an @ of its own.
            re.sub(r"//([^:/@]+):[^/?#]*@", r"//\1:********@", self.database_url),
        )
        shown["smtp_url"] = _URL_PASSWORD.sub(r"//\1:********@", self.smtp_url)
        shown["worker_stale_after"] = str(self.worker_stale_after)
        shown["webhook_retention"] = str(self.webhook_retention)
        shown["access_log_retention"] = str(self.access_log_retention)
        shown["http_head_timeout"] = str(self.http_head_timeout)
        shown["http_body_timeout"] = str(self.http_body_timeout)
        return shown

    def check_bind(self, host: str) -> None:
        """Refuses to serve the implicit sandbox beyond loopback: the fake Amazon and every
        tenant's mailbox would be open to whoever reaches the address."""
        if self.sandbox_implicit and not is_loopback(host):
            raise ConfigError(
                "SANDBOX",
                f"SANDBOX=1 to serve the sandbox on {host}, or real Amazon "
                "(LWA_CLIENT_ID, LWA_CLIENT_SECRET, SPAPI_APPLICATION_ID)",
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = _process_env() if env is None else env
        database_url = env.get("DATABASE_URL", cls.database_url)
        try:
            eventsourcing_env(database_url)
        except DatabaseUrlError as e:
            raise ConfigError("DATABASE_URL", str(e), database_url) from None
        lwa_client_id = env.get("LWA_CLIENT_ID", "")
        sandbox = _bool(env, "SANDBOX", default=not lwa_client_id)
        lwa_secrets = _lwa_secrets(env)
        if not sandbox:
            for name in ("SPAPI_APPLICATION_ID", "LWA_CLIENT_ID"):
                if not env.get(name):
                    raise ConfigError(name, "a value when SANDBOX=0 (real Amazon)")
            if not lwa_secrets:
                raise ConfigError(
                    "LWA_CLIENT_SECRET",
                    "a value (or LWA_CLIENT_SECRETS, newest first) when SANDBOX=0 (real Amazon)",
                )
        ads_client_id, ads_client_secret = (
            env.get("ADS_CLIENT_ID", ""),
            env.get("ADS_CLIENT_SECRET", ""),
        )
        if bool(ads_client_id) != bool(ads_client_secret):
            missing = "ADS_CLIENT_SECRET" if ads_client_id else "ADS_CLIENT_ID"
            raise ConfigError(missing, "a value: ADS_CLIENT_ID and ADS_CLIENT_SECRET go together")
        secret_key = env.get("SECRET_KEY", "")
        if not secret_key:
            if not sandbox:
                raise ConfigError("SECRET_KEY", "at least 32 random characters")
            secret_key = _local_secret(database_url)
        elif len(secret_key) < 32:
            raise ConfigError("SECRET_KEY", "at least 32 characters")
        keys = tuple(k.strip() for k in env.get("ENCRYPTION_KEYS", "").split(",") if k.strip())
        for key in keys:
            if not _is_fernet_key(key):
                raise ConfigError(
                    "ENCRYPTION_KEYS", "comma-separated Fernet keys (32 url-safe base64 bytes each)"
                )
        public = env.get("PUBLIC_BASE_URL", cls.public_base_url).rstrip("/")
        if not re.match(r"^https?://[^/\s]+", public):
            raise ConfigError("PUBLIC_BASE_URL", "an http(s) URL", public)
        log_format = env.get("LOG_FORMAT", "console")
        if log_format not in ("console", "json"):
            raise ConfigError("LOG_FORMAT", "console or json", log_format)
        log_level = env.get("LOG_LEVEL", "INFO").upper()
        if log_level not in _LEVELS:
            raise ConfigError("LOG_LEVEL", " or ".join(_LEVELS), env["LOG_LEVEL"])
        return cls(
            database_url=database_url,
            public_base_url=public,
            sandbox=sandbox,
            sandbox_implicit=sandbox and "SANDBOX" not in env,
            spapi_application_id=env.get("SPAPI_APPLICATION_ID", ""),
            lwa_client_id=lwa_client_id,
            lwa_client_secret=lwa_secrets[0] if lwa_secrets else "",
            lwa_older_client_secrets=lwa_secrets[1:],
            lwa_client_secret_expires_at=_instant(env, "LWA_CLIENT_SECRET_EXPIRES_AT"),
            ads_client_id=ads_client_id,
            ads_client_secret=ads_client_secret,
            spapi_draft_app=_bool(env, "SPAPI_DRAFT_APP", default=False),
            secret_key=secret_key,
            previous_secret_keys=tuple(
                k.strip() for k in env.get("PREVIOUS_SECRET_KEYS", "").split(",") if k.strip()
            ),
            erase_after_disconnect=(
                timedelta(days=_int(env, "ERASE_AFTER_DISCONNECT_DAYS", 1))
                if env.get("ERASE_AFTER_DISCONNECT_DAYS")
                else None
            ),
            encryption_keys=keys,
            webhook_allow_private=_bool(env, "WEBHOOK_ALLOW_PRIVATE", default=False),
            webhook_retention=_duration(env, "WEBHOOK_RETENTION", "30d"),
            access_log_retention=_duration(env, "ACCESS_LOG_RETENTION", "365d"),
            lwa_token_url=_url(env, "LWA_TOKEN_URL"),
            ads_token_urls={
                region: url
                for region in ("na", "eu", "fe")
                if (url := _url(env, f"ADS_TOKEN_URL_{region.upper()}"))
            },
            run_worker=_bool(env, "RUN_WORKER", default=True),
            migrate_on_start=_bool(env, "MIGRATE_ON_START", default=sandbox),
            durations=Durations(
                authorization_window=_duration(env, "AUTHORIZATION_WINDOW", "15m"),
                invitation_ttl=_duration(env, "INVITATION_TTL", "14d"),
                sc_invite_ttl=_duration(env, "SC_INVITE_TTL", "14d"),
                reauth_interval=_duration(env, "REAUTH_INTERVAL", "365d"),
                reauth_notice=_duration(env, "REAUTH_NOTICE", "30d"),
            ),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 64 * 1024),
            max_header_bytes=_int(env, "MAX_HEADER_BYTES", 16 * 1024),
            max_headers=_int(env, "MAX_HEADERS", 100),
            http_head_timeout=_duration(env, "HTTP_HEAD_TIMEOUT", "10s"),
            http_body_timeout=_duration(env, "HTTP_BODY_TIMEOUT", "30s"),
            rate_limit_per_second=_rate(env, "RATE_LIMIT_PER_SECOND", 100.0),
            rate_limit_burst=_int(env, "RATE_LIMIT_BURST", 200),
            pool_size=_int(env, "DB_POOL_SIZE", 10),
            log_format=log_format,
            log_level=log_level,
            log_traceback_locals=_bool(env, "LOG_TRACEBACK_LOCALS", default=False),
            readyz_max_lag=_int(env, "READYZ_MAX_LAG", 1000),
            worker_stale_after=_duration(env, "WORKER_STALE_AFTER", "30s"),
            metrics_port=_port(env, "METRICS_PORT"),
            seller_central_user_email=_email(
                env, "SELLER_CENTRAL_USER_EMAIL", cls.seller_central_user_email
            ),
            smtp_url=_smtp_url(env),
            mail_from=_mail_from(env, cls.mail_from),
        )


_SECRET_FIELDS = {
    "lwa_client_secret",
    "lwa_older_client_secrets",
    "ads_client_secret",
    "secret_key",
    "previous_secret_keys",
    "encryption_keys",
}
_URL_PASSWORD = re.compile(r"//([^:/@]+):[^@]*@")
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _process_env() -> dict[str, str]:
    """`.env` (or `ENV_FILE`) under the process environment, which wins."""
    name = os.environ.get("ENV_FILE")
    path = Path(name or ".env")
    if not path.is_file():
        if name:
            raise ConfigError("ENV_FILE", "a readable file", name)
        return dict(os.environ)
    from_file = {k: v for k, v in dotenv_values(path).items() if v is not None}
    return {**from_file, **os.environ}


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))) == 32
    except ValueError:  # binascii.Error
        return False


def _derive(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


def _bool(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(name, "1 or 0", raw)


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise ConfigError(name, "a positive whole number", raw)
    return int(raw)


def _rate(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise ConfigError(name, "requests per second, a number >= 0 (0 turns it off)", raw)
    return value


def _port(env: Mapping[str, str], name: str) -> int:
    port = _int(env, name, 0)
    if port > 65535:
        raise ConfigError(name, "a TCP port (1 to 65535)", env[name])
    return port


def _email(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name) or default
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", raw):
        raise ConfigError(name, "an e-mail address", raw)
    return raw


def _url(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if value and not re.match(r"^https?://[^/\s]+", value):
        raise ConfigError(name, "an http(s) URL", value)
    return value


def _lwa_secrets(env: Mapping[str, str]) -> tuple[str, ...]:
    """LWA_CLIENT_SECRETS (newest first, comma-separated), else LWA_CLIENT_SECRET alone."""
    listed = tuple(s.strip() for s in env.get("LWA_CLIENT_SECRETS", "").split(",") if s.strip())
    single = env.get("LWA_CLIENT_SECRET", "")
    return listed or ((single,) if single else ())


def _instant(env: Mapping[str, str], name: str) -> datetime | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(name, "an RFC 3339 instant such as 2026-06-30T00:00:00Z", raw) from None
    if when.tzinfo is None:
        raise ConfigError(name, "an instant with its offset (Z or +hh:mm)", raw)
    return when.astimezone(UTC)


def _duration(env: Mapping[str, str], name: str, default: str) -> timedelta:
    raw = env.get(name) or default
    match = re.fullmatch(r"(\d+)([smhd])", raw.strip())
    if not match or int(match.group(1)) == 0:
        raise ConfigError(name, "a duration such as 15m, 14d or 365d", raw)
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def _local_secret(database_url: str) -> str:
    """Sandbox convenience: one random key kept beside the SQLite file (or in var/)."""
    folder = Path("var")
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        folder = Path(database_url[len("sqlite:///") :]).parent
    path = folder / "secret.key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _smtp_url(env: Mapping[str, str]) -> str:
    from adapters.mail_sender import SmtpTarget, SmtpUrlError

    raw = env.get("SMTP_URL", "").strip()
    if raw:
        try:
            SmtpTarget.parse(raw)
        except SmtpUrlError as e:
            raise ConfigError("SMTP_URL", str(e)) from None  # the value may hold a password
    return raw


def _mail_from(env: Mapping[str, str], default: str) -> str:
    from email.utils import parseaddr

    raw = env.get("MAIL_FROM") or default
    _, address = parseaddr(raw)
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address) or "\n" in raw or "\r" in raw:
        raise ConfigError("MAIL_FROM", "an address such as 'Acme <no-reply@acme.example>'", raw)
    return raw
