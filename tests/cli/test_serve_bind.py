"""The sandbox Amazon by default (no LWA credentials, no SANDBOX) only on loopback: beyond it,
the fake Amazon and every tenant's invitation links at /sandbox/mail would be open to
whoever reaches the address."""

from __future__ import annotations

import pytest

from service.cli.main import main
from service.settings import Settings


@pytest.fixture
def no_amazon(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in ("SANDBOX", "LWA_CLIENT_ID", "LWA_CLIENT_SECRET", "SPAPI_APPLICATION_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/c.db")
    monkeypatch.chdir(tmp_path)  # no .env file of the checkout's


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "shop.example"])
def test_serve_refuses_the_implicit_sandbox_beyond_loopback_in_one_line(no_amazon, capsys, host):
    assert main(["serve", "--host", host, "--port", "1"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "SANDBOX=1" in line
    assert "LWA_CLIENT_ID" in line


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_the_implicit_sandbox_is_served_on_loopback(no_amazon, host):
    Settings.from_env().check_bind(host)


def test_a_sandbox_asked_for_is_served_on_any_address(no_amazon, monkeypatch):
    monkeypatch.setenv("SANDBOX", "1")
    Settings.from_env().check_bind("0.0.0.0")
