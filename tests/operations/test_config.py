"""Configuration: each wrong or missing variable stops the process with a line naming it;
`connections config` and the start-up log line never show a secret."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from cryptography.fernet import Fernet

from service import logs
from service.cli.main import main
from service.settings import ConfigError, Settings

SECRET_KEY = "s3cret-key-that-is-long-enough-0123456789"
LWA_SECRET = "amzn1.oa2-cs.v1.lwa-client-secret-value"
DB_PASSWORD = "hunter2-db-pass"
VARIABLES = (
    "DATABASE_URL",
    "PUBLIC_BASE_URL",
    "SANDBOX",
    "SPAPI_APPLICATION_ID",
    "LWA_CLIENT_ID",
    "LWA_CLIENT_SECRET",
    "LWA_CLIENT_SECRETS",
    "LWA_CLIENT_SECRET_EXPIRES_AT",
    "ADS_CLIENT_ID",
    "ADS_CLIENT_SECRET",
    "SPAPI_DRAFT_APP",
    "SECRET_KEY",
    "ENCRYPTION_KEYS",
    "WEBHOOK_ALLOW_PRIVATE",
    "RUN_WORKER",
    "AUTHORIZATION_WINDOW",
    "INVITATION_TTL",
    "SC_INVITE_TTL",
    "REAUTH_INTERVAL",
    "REAUTH_NOTICE",
    "MAX_BODY_BYTES",
    "DB_POOL_SIZE",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "READYZ_MAX_LAG",
    "WORKER_STALE_AFTER",
    "SELLER_CENTRAL_USER_EMAIL",
    "ENV_FILE",
    "METRICS_PORT",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No configuration from the machine running the tests, and no stray `.env`."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """`log_start` configures logging for the whole process; later tests get it back."""
    names = ["", "httpx", "httpcore", "uvicorn", "uvicorn.error", "uvicorn.access"]
    saved = [
        (
            logging.getLogger(n),
            logging.getLogger(n).handlers[:],
            logging.getLogger(n).level,
            logging.getLogger(n).propagate,
        )
        for n in names
    ]
    config = structlog.get_config()
    yield
    for logger, handlers, level, propagate in saved:
        logger.handlers, logger.propagate = handlers, propagate
        logger.setLevel(level)
    structlog.configure(**config)


def valid(tmp_path: Path, **overrides: str) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{tmp_path}/c.db", "SECRET_KEY": SECRET_KEY, **overrides}


def real_amazon(tmp_path: Path, **overrides: str) -> dict[str, str]:
    return valid(
        tmp_path,
        SANDBOX="0",
        SPAPI_APPLICATION_ID="amzn1.sp.solution.app",
        LWA_CLIENT_ID="amzn1.application-oa2-client.id",
        LWA_CLIENT_SECRET=LWA_SECRET,
        **overrides,
    )


WRONG = [
    ("DATABASE_URL", "mysql://db/connections"),
    ("DATABASE_URL", "postgresql://db:5432/"),
    ("PUBLIC_BASE_URL", "ftp://example.com"),
    ("SANDBOX", "maybe"),
    ("SPAPI_DRAFT_APP", "2"),
    ("SECRET_KEY", "too-short"),
    ("ENCRYPTION_KEYS", "not a key!"),
    ("ENCRYPTION_KEYS", base64.urlsafe_b64encode(b"sixteen bytes!!!").decode()),
    ("WEBHOOK_ALLOW_PRIVATE", "yes please"),
    ("RUN_WORKER", "sometimes"),
    ("AUTHORIZATION_WINDOW", "15 minutes"),
    ("INVITATION_TTL", "0d"),
    ("SC_INVITE_TTL", "2w"),
    ("REAUTH_INTERVAL", "365"),
    ("REAUTH_NOTICE", "-30d"),
    ("MAX_BODY_BYTES", "64k"),
    ("DB_POOL_SIZE", "0"),
    ("LOG_FORMAT", "xml"),
    ("LOG_LEVEL", "LOUD"),
    ("READYZ_MAX_LAG", "lots"),
    ("WORKER_STALE_AFTER", "soon"),
    ("SELLER_CENTRAL_USER_EMAIL", "nobody"),
    ("METRICS_PORT", "70000"),
    ("METRICS_PORT", "http"),
    ("LWA_CLIENT_SECRET_EXPIRES_AT", "next tuesday"),
    ("LWA_CLIENT_SECRET_EXPIRES_AT", "2026-06-30T00:00:00"),
]


@pytest.mark.parametrize(("variable", "value"), WRONG, ids=[f"{v}={x}" for v, x in WRONG])
def test_a_wrong_value_is_refused_naming_the_variable(tmp_path, variable, value):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(valid(tmp_path, **{variable: value}))
    assert raised.value.variable == variable
    assert str(raised.value).startswith(f"{variable}: expected ")


@pytest.mark.parametrize(
    "variable", ["SPAPI_APPLICATION_ID", "LWA_CLIENT_ID", "LWA_CLIENT_SECRET", "SECRET_KEY"]
)
def test_real_amazon_without_a_required_value_is_refused_naming_it(tmp_path, variable):
    env = real_amazon(tmp_path)
    del env[variable]
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)
    assert raised.value.variable == variable


def test_the_defaults_and_valid_values_are_accepted(tmp_path):
    settings = Settings.from_env(
        real_amazon(
            tmp_path,
            ENCRYPTION_KEYS=Fernet.generate_key().decode(),
            LOG_LEVEL="debug",
            WORKER_STALE_AFTER="2m",
            READYZ_MAX_LAG="50",
        )
    )
    assert settings.sandbox is False
    assert settings.log_level == "DEBUG"
    assert settings.worker_stale_after.total_seconds() == 120
    assert settings.readyz_max_lag == 50


def test_lwa_client_secrets_list_the_newest_first_and_the_expiry_is_an_instant(tmp_path):
    settings = Settings.from_env(
        real_amazon(
            tmp_path,
            LWA_CLIENT_SECRETS=" new-secret-value , old-secret-value ",
            LWA_CLIENT_SECRET_EXPIRES_AT="2026-06-30T12:00:00+02:00",
        )
    )
    assert settings.lwa_client_secret == "new-secret-value"
    assert settings.lwa_older_client_secrets == ("old-secret-value",)
    assert settings.lwa_client_secret_expires_at.isoformat() == "2026-06-30T10:00:00+00:00"
    shown = settings.masked()
    assert shown["lwa_older_client_secrets"] == "********"
    assert "old-secret-value" not in repr(settings) and "new-secret-value" not in repr(settings)


@pytest.mark.parametrize(
    ("given", "missing"),
    [("ADS_CLIENT_ID", "ADS_CLIENT_SECRET"), ("ADS_CLIENT_SECRET", "ADS_CLIENT_ID")],
)
def test_the_ads_client_needs_both_its_id_and_its_secret(tmp_path, given, missing):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(real_amazon(tmp_path, **{given: "amzn1.ads-value"}))
    assert raised.value.variable == missing
    pair = {"ADS_CLIENT_ID": "amzn1.application-oa2-client.ads", "ADS_CLIENT_SECRET": "ads-secret"}
    settings = Settings.from_env(real_amazon(tmp_path, **pair))
    assert (settings.ads_client_id, settings.masked()["ads_client_secret"]) == (
        "amzn1.application-oa2-client.ads",
        "********",
    )


def test_a_dotenv_file_is_read_and_the_process_environment_wins(clean_env, tmp_path):
    (tmp_path / ".env").write_text(
        f"SECRET_KEY={SECRET_KEY}\nLOG_FORMAT=json\nLOG_LEVEL=ERROR\n"
        f"DATABASE_URL=sqlite:///{tmp_path}/from-dotenv.db\n"
    )
    clean_env.setenv("LOG_LEVEL", "WARNING")
    settings = Settings.from_env()
    assert settings.log_format == "json"
    assert settings.log_level == "WARNING"
    assert settings.database_url.endswith("from-dotenv.db")


def test_an_env_file_that_does_not_exist_is_refused(clean_env, tmp_path):
    clean_env.setenv("ENV_FILE", str(tmp_path / "missing.env"))
    with pytest.raises(ConfigError) as raised:
        Settings.from_env()
    assert raised.value.variable == "ENV_FILE"


def test_the_cli_stops_with_one_line_naming_the_variable(clean_env, tmp_path, capsys):
    for name, value in valid(tmp_path, LOG_FORMAT="xml").items():
        clean_env.setenv(name, value)
    assert main(["config"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip().splitlines() == [
        "configuration error: LOG_FORMAT: expected console or json (got 'xml')"
    ]


def test_connections_config_prints_the_effective_configuration_with_secrets_masked(
    clean_env, tmp_path, capsys
):
    fernet_key = Fernet.generate_key().decode()
    env = real_amazon(
        tmp_path,
        ENCRYPTION_KEYS=fernet_key,
        LOG_FORMAT="json",
        DATABASE_URL=f"postgresql://app:{DB_PASSWORD}@db.internal:5432/connections",
    )
    for name, value in env.items():
        clean_env.setenv(name, value)
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    shown = json.loads(out)
    for secret in (SECRET_KEY, LWA_SECRET, DB_PASSWORD, fernet_key):
        assert secret not in out
    assert shown["secret_key"] == shown["lwa_client_secret"] == "********"
    assert shown["encryption_keys"] == "********"
    assert shown["database_url"] == "postgresql://app:********@db.internal:5432/connections"
    assert shown["lwa_client_id"] == "amzn1.application-oa2-client.id"
    assert shown["log_format"] == "json"
    assert shown["sandbox"] is False


def test_the_start_line_logs_the_configuration_masked(tmp_path, capsys, restored_logging):
    settings = Settings.from_env(real_amazon(tmp_path, LOG_FORMAT="json"))
    logs.log_start(settings, "worker")
    err = capsys.readouterr().err
    line = json.loads(err.strip().splitlines()[-1])
    assert line["event"] == "worker starting"
    assert line["config"]["secret_key"] == "********"
    assert line["config"]["lwa_client_id"] == "amzn1.application-oa2-client.id"
    assert SECRET_KEY not in err and LWA_SECRET not in err
