"""Which addresses a webhook may be sent to: an explicit list, not `ipaddress.is_global`
(whose answers for IPv4-mapped, NAT64 and other forms changed between Python patch
releases), so the guard answers the same everywhere.

The ranges are IANA's special-purpose address registries, as of 2025:
https://www.iana.org/assignments/iana-ipv4-special-registry/ and
https://www.iana.org/assignments/iana-ipv6-special-registry/ (RFC 6890 and its updates),
plus multicast (RFC 5771, RFC 4291). Every entry is refused, the few IANA marks globally
reachable too (anycast and AS112 services, never a webhook receiver), except the IPv6
forms that embed an IPv4 address: IPv4-mapped, IPv4-compatible, NAT64 (64:ff9b::/96) and
6to4 (2002::/16) are judged by the IPv4 address inside. IPv6 outside global unicast
(2000::/3) is refused as well, whatever IANA adds there later.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

SPECIAL_IPV4: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "this network"),
    ("10.0.0.0/8", "private use"),
    ("100.64.0.0/10", "shared address space (carrier-grade NAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link local"),
    ("172.16.0.0/12", "private use"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation (TEST-NET-1)"),
    ("192.31.196.0/24", "AS112-v4"),
    ("192.52.193.0/24", "AMT"),
    ("192.88.99.0/24", "deprecated 6to4 relay anycast"),
    ("192.168.0.0/16", "private use"),
    ("192.175.48.0/24", "direct delegation AS112 service"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("255.255.255.255/32", "limited broadcast"),
)
SPECIAL_IPV6: tuple[tuple[str, str], ...] = (
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("64:ff9b:1::/48", "local-use IPv4/IPv6 translation"),
    ("100::/64", "discard-only"),
    ("100:0:0:1::/64", "dummy IPv6 prefix"),
    ("2001::/23", "IETF protocol assignments (TEREDO, benchmarking, ORCHID, AMT, AS112...)"),
    ("2001:db8::/32", "documentation"),
    ("2620:4f:8000::/48", "direct delegation AS112 service"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing SIDs"),
    ("fc00::/7", "unique local"),
    ("fe80::/10", "link-local unicast"),
    ("fec0::/10", "deprecated site-local"),
    ("ff00::/8", "multicast"),
)
_V4 = tuple((IPv4Network(net), why) for net, why in SPECIAL_IPV4)
_V6 = tuple((IPv6Network(net), why) for net, why in SPECIAL_IPV6)
GLOBAL_UNICAST = IPv6Network("2000::/3")
# (prefix, where the IPv4 address sits: bits counted from the right)
_EMBEDDING: tuple[tuple[IPv6Network, int, str], ...] = (
    (IPv6Network("::ffff:0:0/96"), 0, "IPv4-mapped"),
    (IPv6Network("::/96"), 0, "IPv4-compatible"),
    (IPv6Network("64:ff9b::/96"), 0, "NAT64"),
    (IPv6Network("2002::/16"), 80, "6to4"),
)


def embedded_ipv4(ip: IPv6Address) -> tuple[IPv4Address, str] | None:
    """The IPv4 address an IPv6 address stands for, and the form, when it has one."""
    for prefix, shift, form in _EMBEDDING:
        if ip in prefix and not (form == "IPv4-compatible" and int(ip) <= 1):
            return IPv4Address((int(ip) >> shift) & 0xFFFFFFFF), form
    return None


def why_refused(address: str) -> str | None:
    """Why an address is not a public one (None when it is): the range it falls in."""
    ip = ip_address(address.split("%")[0])
    if isinstance(ip, IPv6Address):
        inner = embedded_ipv4(ip)
        if inner is not None:
            reason = _in(inner[0], _V4)
            return f"{inner[1]} form of {inner[0]}: {reason}" if reason else None
        reason = _in(ip, _V6)
        if reason is None and ip not in GLOBAL_UNICAST:
            reason = "not global unicast (outside 2000::/3)"
        return reason
    return _in(ip, _V4)


def _in(ip, table) -> str | None:
    for network, why in table:
        if ip in network:
            return f"{network} {why}"
    return None


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine: `localhost`, or an address this table calls loopback
    (127.0.0.0/8, ::1, and the IPv6 forms that embed them). A name other than localhost is
    not: where it resolves may change."""
    if host == "localhost":
        return True
    try:
        reason = why_refused(host.strip("[]"))
    except ValueError:
        return False
    return reason is not None and reason.endswith("loopback")
