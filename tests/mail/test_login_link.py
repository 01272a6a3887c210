"""The Login URI's one-time continue link, mailed through a real SMTP server on loopback
(SPEC §12): the owner without a session asks for it on the neutral page, it arrives at the
owner address on file, continues once, and renews an `active` connection's year."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.conftest import START
from tests.connect.test_login_uri import BROWSER, _get, _reauthorize_link
from tests.connect.test_owner_proof import VICTIM, _active
from tests.mail.test_mail import OWNER, body, run_mail, subject


def _ask(live, login: str) -> httpx.Response:
    form = {k: v[0] for k, v in parse_qs(urlsplit(login).query).items()}
    return httpx.post(f"{live.url}/v1/oauth/amazon/login", data=form, headers=BROWSER)


def test_the_mailed_continue_link_continues_once_and_renews_an_active_connection(mailing, smtp):
    live, (_, inbox, _) = mailing, smtp
    with live.client() as api:
        c = _active(api, {"owner_email": OWNER}, VICTIM)
        run_mail(live)
        inbox.messages.clear()
        live.clock.set(START + timedelta(days=100))
        login = _reauthorize_link(live, VICTIM)
        assert "Confirm it is you" in _get(login).text
        asked = _ask(live, login)
        assert asked.status_code == 200 and "Check your e-mail" in asked.text
        assert _ask(live, login).content == asked.content  # throttled, and says nothing
        run_mail(live)
        mails = inbox.to(OWNER)
        assert len(mails) == 1  # one per connection per 10 minutes
        mail = mails[0]
        assert "re-authorize your Amazon account for Acme Repricer" in subject(mail)
        link = re.search(r"http://\S+/login/continue/\S+", body(mail, "plain")).group(0)
        assert f'href="{link}"' in body(mail, "html")
        assert c["id"] not in link
        stored = live.services.mail.tables.of_connection("tenant_a", c["id"])[-1]
        assert stored.kind == "login_link" and link.rsplit("/", 1)[1] not in stored.facts
        for secret in ("amazon_state", "confirm"):
            assert secret not in stored.facts  # Amazon's request is kept encrypted
        emails = api.get(f"/v1/connections/{c['id']}/emails").json()["data"]
        assert emails[-1]["kind"] == "login_link" and emails[-1]["status"] == "sent"

        with httpx.Client(headers=BROWSER, timeout=30) as browser:
            to_confirm = browser.get(link)
            assert to_confirm.status_code == 302
            target = to_confirm.headers["location"]
            assert target.startswith(f"{live.url}/sandbox/amazon/na/apps/authorize/confirm?")
            query = parse_qs(urlsplit(target).query)
            assert query["amazon_state"] == parse_qs(urlsplit(login).query)["amazon_state"]
            assert "owner_session" in browser.cookies  # the link gave this browser the session
            amazon = _get(f"{target}&sandbox_outcome=approve")
            assert _get(amazon.headers["location"]).status_code == 303
            assert browser.get(link).status_code == 410  # once only
            assert browser.get(login).status_code == 302  # the session continues at once now
        after = api.get(f"/v1/connections/{c['id']}").json()
        assert after["state"] == "active" and after["lapses_at"] > c["lapses_at"]
        assert after["lapses_at"].startswith("2027")


def test_a_continue_link_expires_after_an_hour_and_a_forged_one_does_nothing(mailing, smtp):
    live, (_, inbox, _) = mailing, smtp
    with live.client() as api:
        _active(api, {"owner_email": OWNER}, VICTIM)
        run_mail(live)
        inbox.messages.clear()
        login = _reauthorize_link(live, VICTIM)
        _ask(live, login)
        run_mail(live)
        link = re.search(r"http://\S+/login/continue/\S+", body(inbox.to(OWNER)[0], "plain"))
        forged = link.group(0)[:-3] + ("AAA" if not link.group(0).endswith("AAA") else "BBB")
        assert _get(forged).status_code == 410
        live.clock.set(START + timedelta(hours=1, minutes=1))
        assert _get(link.group(0)).status_code == 410
