"""`connections console-users add|list|remove` (SPEC §13), in its own process as an operator
runs it, on each store; and the sign-in link over real SMTP when SMTP_URL is set."""

from __future__ import annotations

import re

from tests.conftest import run_cli
from tests.console.staff import ask_for_link, browser, csrf_of
from tests.mail.test_mail import body, mailing, run_mail, smtp, subject  # noqa: F401  (fixtures)


def test_console_users_are_added_listed_and_removed(database_url):
    added = run_cli(
        database_url,
        "console-users",
        "add",
        "--tenant",
        "t1",
        "--email",
        "Ann@Acme.example",
        "--role",
        "support",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout == "ann@acme.example\tsupport\n"
    run_cli(
        database_url,
        "console-users",
        "add",
        "--tenant",
        "t1",
        "--email",
        "bo@acme.example",
        "--role",
        "viewer",
    )
    run_cli(
        database_url,
        "console-users",
        "add",
        "--tenant",
        "t2",
        "--email",
        "cy@acme.example",
        "--role",
        "admin",
    )
    listed = run_cli(database_url, "console-users", "list", "--tenant", "t1")
    assert listed.stdout.splitlines() == [
        "ann@acme.example\tsupport\tlinks only",
        "bo@acme.example\tviewer\tlinks only",
    ]
    removed = run_cli(
        database_url, "console-users", "remove", "--tenant", "t1", "--email", "ann@acme.example"
    )
    assert removed.returncode == 0
    again = run_cli(
        database_url, "console-users", "remove", "--tenant", "t1", "--email", "ann@acme.example"
    )
    assert again.returncode == 1 and "no console user" in again.stderr
    refused = run_cli(
        database_url, "console-users", "add", "--tenant", "t1", "--email", "x", "--role", "viewer"
    )
    assert refused.returncode == 2 and "not an e-mail address" in refused.stderr
    wrong_role = run_cli(
        database_url,
        "console-users",
        "add",
        "--tenant",
        "t1",
        "--email",
        "d@acme.example",
        "--role",
        "owner",
    )
    assert wrong_role.returncode == 2
    assert run_cli(database_url, "console-users", "list", "--tenant", "t1").stdout.splitlines() == [
        "bo@acme.example\tviewer\tlinks only"
    ]


def test_the_sign_in_link_arrives_over_smtp_and_signs_in(mailing, smtp):  # noqa: F811
    live, (_, inbox, _) = mailing, smtp
    live.services.console.people.add("tenant_a", "sam@acme.example", "support")
    http = browser(live)
    ask_for_link(http, "sam@acme.example")
    run_mail(live)
    (mail,) = inbox.to("sam@acme.example")
    assert subject(mail) == "Your sign-in link for the Acme Repricer console"
    link = re.search(r"http://\S+/console/sign-in/\S+", body(mail, "plain")).group(0)
    assert link in body(mail, "html")
    page = http.get(link)
    answer = http.post(link, data={"csrf": csrf_of(page.text)})
    assert answer.status_code == 303 and http.get("/console").status_code == 200
