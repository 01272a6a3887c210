"""Where the owner's browser may be sent back (SECURITY.md: no open redirect): the origin
of a URL as a browser reads it, and the tenant's registered origins."""

from __future__ import annotations

import pytest

from domain.exceptions import ValidationFailed
from domain.origins import bare_origin, check_return_url, origin_of


@pytest.mark.parametrize(
    "url, origin",
    [
        ("https://App.Example/done?x=1#y", "https://app.example"),
        ("HTTPS://app.example:443/", "https://app.example"),
        ("http://app.example:80/x", "http://app.example"),
        ("https://app.example:8443/x", "https://app.example:8443"),
        ("http://app.example:443/", "http://app.example:443"),
        ("https://[2001:db8::1]:8443/x", "https://[2001:db8::1]:8443"),
        ("https://[2001:db8::1]/x", "https://[2001:db8::1]"),
    ],
)
def test_the_origin_is_scheme_host_and_a_port_other_than_the_default(url, origin):
    assert origin_of(url) == origin


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example\\@app.example/",  # a browser goes to evil.example
        "https://user@app.example/",
        "https://user:pw@app.example/",
        "javascript:alert(1)",
        "ftp://app.example/",
        "https:///no-host",
        "https://app.example:99999/",  # no such port
        "//app.example/",
        "",
    ],
)
def test_a_url_a_browser_might_read_otherwise_has_no_origin(url):
    assert origin_of(url) is None


@pytest.mark.parametrize(
    "raw, origin",
    [
        ("https://app.example", "https://app.example"),
        ("https://app.example/", "https://app.example"),
        ("https://app.example/path", None),
        ("https://app.example/?q=1", None),
        ("https://app.example/#f", None),
        ("not a url", None),
    ],
)
def test_a_bare_origin_is_an_origin_and_nothing_more(raw, origin):
    assert bare_origin(raw) == origin


def test_a_return_url_on_a_registered_origin_passes():
    check_return_url("https://app.example/connected?c=1", ["https://app.example"])


def test_a_return_url_elsewhere_is_refused_naming_the_allowed_origins():
    allowed = ["https://app.example", "https://admin.example"]
    with pytest.raises(ValidationFailed) as refused:
        check_return_url("https://evil.example/", allowed)
    assert refused.value.extra == {"field": "return_url", "allowed_origins": allowed}
    assert str(refused.value) == (
        "return_url: its origin https://evil.example is not registered for this tenant; "
        "allowed origins: https://app.example, https://admin.example."
    )
    with pytest.raises(ValidationFailed) as unreadable:
        check_return_url("https://x.example\\@app.example/", allowed)
    assert "its origin cannot be read" in str(unreadable.value)


def test_without_registered_origins_every_return_url_is_refused():
    with pytest.raises(ValidationFailed) as refused:
        check_return_url("https://app.example/", [])
    assert refused.value.extra == {"field": "return_url", "allowed_origins": []}
    assert "registered no origin" in str(refused.value)
    assert "connections tenants allow-origin" in str(refused.value)
