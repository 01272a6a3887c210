"""The SSRF guard's address classification: IANA's special-purpose ranges, each refused at
its first, middle and last address; IPv6 forms embedding an IPv4 address judged by that
address; public addresses allowed in every form. Nothing here asks `ipaddress` whether an
address is global, so the answers cannot move with the Python patch release."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_network

import pytest

from adapters.special_addresses import SPECIAL_IPV4, SPECIAL_IPV6, is_loopback, why_refused

RANGES = [net for net, _ in SPECIAL_IPV4 + SPECIAL_IPV6]


def _samples(net: str) -> list[str]:
    network = ip_network(net)
    first, last = int(network.network_address), int(network.broadcast_address)
    kind = IPv4Address if network.version == 4 else IPv6Address
    return [str(kind(n)) for n in {first, (first + last) // 2, last}]


@pytest.mark.parametrize("net", RANGES)
def test_every_special_purpose_range_is_refused_at_its_ends_and_middle(net):
    for address in _samples(net):
        assert why_refused(address) is not None, address


def _forms(v4: str) -> list[str]:
    n = int(IPv4Address(v4))
    return [
        v4,
        f"::ffff:{v4}",  # IPv4-mapped
        f"::{v4}",  # IPv4-compatible
        str(IPv6Address((0x64FF9B << 96) | n)),  # NAT64 64:ff9b::/96
        str(IPv6Address((0x2002 << 112) | (n << 80) | 1)),  # 6to4 2002:v4::1
    ]


@pytest.mark.parametrize(
    "inner", ["127.0.0.1", "169.254.169.254", "10.0.0.1", "192.168.1.1", "0.1.2.3", "100.64.0.1"]
)
def test_every_ipv6_form_embedding_an_internal_ipv4_address_is_refused(inner):
    for address in _forms(inner):
        reason = why_refused(address)
        assert reason is not None, address
        assert inner in reason or address == inner


@pytest.mark.parametrize("public", ["93.184.215.14", "8.8.8.8", "1.1.1.1"])
def test_a_public_ipv4_address_is_allowed_in_every_form(public):
    assert [why_refused(a) for a in _forms(public)] == [None] * 5


@pytest.mark.parametrize(
    "address",
    [
        "fe80::1%eth0",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:0:7f00:1",  # IPv4-translated (SIIT), outside global unicast
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "64:ff9b:1::a00:1",  # local-use NAT64
        "4000::1",  # not yet allocated, outside 2000::/3
    ],
)
def test_ipv6_outside_public_unicast_is_refused(address):
    assert why_refused(address) is not None


@pytest.mark.parametrize("address", ["2606:4700:4700::1111", "2a00:1450:4001:80b::200e"])
def test_public_ipv6_is_allowed(address):
    assert why_refused(address) is None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.2", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.1", False),
        ("localhost.example", False),
    ],
)
def test_loopback_is_this_machine_by_the_same_table(host, loopback):
    assert is_loopback(host) is loopback
