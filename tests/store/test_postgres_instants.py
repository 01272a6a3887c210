"""Instants read back from PostgreSQL are the fixed-width UTC text the service writes
(`adapters.tables.instants.iso`), whatever the session's time zone and however PostgreSQL trims
the fraction: string order stays time order."""

from __future__ import annotations

from datetime import datetime

import psycopg
import pytest

from adapters.tables.instants import iso
from adapters.tables.postgres import _reading_text

INSTANTS = [
    "2026-12-02 00:25:41.971871+00",
    "2026-12-02 00:25:41+00",  # PostgreSQL drops a zero fraction
    "2026-12-02 00:25:41.5+00",  # and trailing zeros
    "0001-01-02 00:00:00+00",
    "9999-12-30 23:59:59.999999+00",
]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/St_Johns"])
def test_instants_read_back_as_the_text_the_service_wrote(postgres_url, zone):
    with psycopg.connect(postgres_url) as conn:
        conn.execute(f"SET TimeZone = '{zone}'")
        _reading_text(conn)
        for text in INSTANTS:
            written = iso(datetime.fromisoformat(text.replace(" ", "T") + ":00"))
            read = conn.execute("SELECT %s::timestamptz", (written,)).fetchone()[0]
            assert read == written
