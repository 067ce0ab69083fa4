"""Which webhook targets the delivery worker may call (docs/alerts-delivery.md, "Targets").

A subscription's webhook URL is chosen by a member; the worker then POSTs to it from inside the server's network.
Without a rule, a member could make the server call its own admin ports, the cloud metadata service or anything on
the private network (server-side request forgery). So by default a target must be ``https`` and its address, both
as written in the URL and as resolved at delivery, must be globally routable: loopback, private (RFC 1918, RFC 4193),
link-local, multicast, unspecified, shared (RFC 6598) and reserved addresses are refused. Two settings relax this
for a closed deployment or a test receiver (``LODELINE_ALERTS_ALLOW_PRIVATE_TARGETS``,
``LODELINE_ALERTS_ALLOW_HTTP_TARGETS``). Pure: no resolution here, the service resolves and asks.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


def refused_reason(address: str | IPAddress) -> str | None:
    """Why a webhook may not be sent to ``address`` by default, or None when it is globally routable."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:  # ::ffff:10.0.0.1 reaches 10.0.0.1
            reason = refused_reason(embedded)
            return None if reason is None else f"{reason} (IPv4 {embedded} inside {ip})"
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    )
    for name, hit in checks:
        if hit:
            return name
    if not ip.is_global:  # e.g. 100.64.0.0/10 (carrier-grade NAT), 192.0.0.0/24
        return "not globally routable"
    return None


def host_literal(host: str) -> IPAddress | None:
    """The IP address written as the URL's host (``[::1]`` without brackets), or None for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def check_url(url: str, *, allow_private: bool, allow_http: bool) -> str | None:
    """Why ``url`` may not be a webhook target, or None. Checks the scheme, and the host when it is an IP address
    or a local name (a name is checked again, resolved, at every delivery)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "it is not a valid URL"
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        return "only https (or, when allowed, http) URLs can be webhook targets"
    if scheme == "http" and not allow_http:
        return "only https targets are accepted (set LODELINE_ALERTS_ALLOW_HTTP_TARGETS=true to allow http)"
    if not host:
        return "the URL has no host"
    if allow_private:
        return None
    literal = host_literal(host)
    name = host.rstrip(".").lower()
    if literal is None and (name in _LOCAL_NAMES or name.endswith(".localhost")):
        return f"{host} is a loopback name (set LODELINE_ALERTS_ALLOW_PRIVATE_TARGETS=true to allow it)"
    reason = None if literal is None else refused_reason(literal)
    if reason is not None:
        return f"{host} is a {reason} address (set LODELINE_ALERTS_ALLOW_PRIVATE_TARGETS=true to allow it)"
    return None
