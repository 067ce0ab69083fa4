"""Webhook target rules (alerts/targets.py): each refused address class, the allowed case, the scheme rule and the
settings that relax them. Expected classes are the IANA special-purpose registries' (RFC 1918, 4193, 3927, 4291,
6598, 5771)."""

from __future__ import annotations

import pytest

from lodeline.alerts.targets import check_url, refused_reason

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.168.1.1", "private"),
    ("fd12:3456:789a::1", "private"),  # RFC 4193 unique local
    ("fc00::1", "private"),
    ("169.254.169.254", "link-local"),  # the cloud metadata service
    ("fe80::1", "link-local"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("240.0.0.1", "reserved"),
    ("100.64.0.1", "not globally routable"),  # RFC 6598 shared (carrier-grade NAT)
]


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_refused_classes(address: str, reason: str) -> None:
    assert refused_reason(address) == reason


@pytest.mark.parametrize("address", ["::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:a00:1::1"])
def test_ipv4_inside_ipv6_is_checked_as_ipv4(address: str) -> None:
    reason = refused_reason(address)
    assert reason is not None and "IPv4" in reason


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "172.32.0.1", "11.0.0.1"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert refused_reason(address) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://[::1]:8443/hook",
        "https://10.0.0.5/hook",
        "https://192.168.0.10:9000/x",
        "https://[fd00::1]/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fe80::1%25eth0]/",
        "https://224.0.0.1/",
        "https://0.0.0.0/",
        "https://localhost/hook",
        "https://LOCALHOST./hook",
        "https://api.localhost/hook",
    ],
)
def test_private_targets_refused_by_default(url: str) -> None:
    reason = check_url(url, allow_private=False, allow_http=False)
    assert reason is not None and "LODELINE_ALERTS_ALLOW_PRIVATE_TARGETS" in reason
    assert check_url(url, allow_private=True, allow_http=False) is None


def test_http_refused_unless_allowed() -> None:
    reason = check_url("http://hooks.example.org/x", allow_private=False, allow_http=False)
    assert reason is not None and "https" in reason and "LODELINE_ALERTS_ALLOW_HTTP_TARGETS" in reason
    assert check_url("http://hooks.example.org/x", allow_private=False, allow_http=True) is None
    # allowing private addresses does not allow http, and the reverse
    assert check_url("http://127.0.0.1/x", allow_private=True, allow_http=False) is not None
    assert check_url("http://127.0.0.1/x", allow_private=False, allow_http=True) is not None
    assert check_url("http://127.0.0.1/x", allow_private=True, allow_http=True) is None


@pytest.mark.parametrize(
    "url", ["https://hooks.example.org/alerts", "https://8.8.8.8/h", "https://[2606:4700::1]/"]
)
def test_public_https_targets_allowed(url: str) -> None:
    assert check_url(url, allow_private=False, allow_http=False) is None


@pytest.mark.parametrize("url", ["ftp://x.org/", "file:///etc/passwd", "https:///nohost", "gopher://x/"])
def test_other_schemes_and_hostless_refused(url: str) -> None:
    assert check_url(url, allow_private=True, allow_http=True) is not None
