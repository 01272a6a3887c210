"""The console (SPEC §13): pages for the integrator's support and audit staff.

People, not shared keys: each member of staff is a console user of one tenant with a role
(`people.py`), signs in with a one-time link e-mailed through the mail outbox (`links.py`)
or a password set through such a link, and holds a server-side session (`sessions.py`).
The pages (`routes.py`, `sign_in.py`, templates in `templates/`) read through the same
services the API uses and act through them, as `console:<email>`; what is no connection
event (a redelivery, a copied link, a verification, an export) is recorded beside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.tables.console_sessions import ConsoleSessionTables
from adapters.tables.console_users import ConsoleUserTables
from adapters.tables.console_views import ConsoleViewTables
from service.console.links import SignInLinks
from service.console.people import ConsolePeople
from service.console.sessions import Sessions


@dataclass
class Console:
    people: ConsolePeople
    sessions: Sessions
    links: SignInLinks
    views: ConsoleViewTables


def build_console(services: Any) -> Console:
    settings, clock = services.settings, services.clock
    people = ConsolePeople(ConsoleUserTables(services.tables), clock)
    session_tables = ConsoleSessionTables(services.tables)
    return Console(
        people=people,
        sessions=Sessions(
            session_tables, people, clock, settings.public_base_url.startswith("https://")
        ),
        links=SignInLinks(
            settings.console_key, settings.public_base_url, people, session_tables, services
        ),
        views=ConsoleViewTables(services.tables),
    )
