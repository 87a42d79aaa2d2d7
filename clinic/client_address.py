"""The address a request came from, for login lockout: the connection's own address, or, behind
TRUSTED_PROXY_COUNT proxies of ours, the address the outermost of them saw.

Each proxy appends the address it was connected from to X-Forwarded-For, so only the last
TRUSTED_PROXY_COUNT entries were written by us; anything before them was written by the client
and proves nothing. (The API's throttle reads the same setting through REST_FRAMEWORK's
NUM_PROXIES, which counts the same way.)

An IPv6 client is counted by its /64 network: one customer's line commonly holds a whole /64,
so counting single addresses would let it take 2**64 fresh ones to dodge every limit."""

import ipaddress

from django.conf import settings

IPV6_GROUP = 64


def client_address(request) -> str | None:
    """The address lockout and throttling count the request's client by (an IPv6 address by
    the first address of its /64)."""
    address = _client_address(request)
    return counted_as(address) if address else address


def counted_as(address: str) -> str:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped is not None:  # ::ffff:a.b.c.d is that IPv4 client
        return str(parsed.ipv4_mapped)
    return str(ipaddress.ip_network(f"{parsed}/{IPV6_GROUP}", strict=False).network_address)


def _client_address(request) -> str | None:
    connected_from = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return connected_from
    forwarded = [
        entry.strip()
        for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if entry.strip()
    ]
    if not forwarded:
        return connected_from
    seen_by_our_outermost_proxy = forwarded[-min(proxies, len(forwarded))]
    if not _is_address(seen_by_our_outermost_proxy):  # not written by a proxy of ours
        return connected_from
    return seen_by_our_outermost_proxy


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
