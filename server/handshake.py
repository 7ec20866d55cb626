"""What the gateway decides at the websocket handshake, before a connection exists: who the
client is (its address, through trusted proxies) and whether its page may connect (Origin).

Pure functions over the handshake's facts, so the rules are tested without sockets.

- Client address: the TCP peer, unless the peer is a trusted proxy (``trusted_proxies``):
  then ``X-Forwarded-For`` is read from the right, each hop added by a trusted proxy, up to
  the first address that is not a trusted proxy: that is the client. A header from an
  untrusted peer is ignored (anyone can write one). A malformed hop ends the walk at the
  proxy that added it, so a broken header can only lump its senders under that proxy.
- Origin: browsers send ``Origin`` with every websocket handshake; native clients and bots
  send none. A handshake without one is allowed; one with an Origin is allowed only when it
  is on ``allowed_origins`` (scheme://host[:port], compared ignoring case and a trailing
  slash), or, with ``same_host`` (the default), when its host is the host the handshake was
  addressed to (the ``Host`` header, any port): that is the server's own browser client,
  served on the admin listener of the same host (clients/serving.py). ``null`` (sandboxed
  frames, file: pages) is refused unless listed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Final
from urllib.parse import urlsplit

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
FORWARDED_HOPS_MAX: Final = 32  # hops read from X-Forwarded-For; beyond: ignored (left part)


def parse_networks(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    """``"10.0.0.0/8"``, ``"127.0.0.1"``, ``"::1"`` -> networks; raises ValueError."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _address(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress | None, proxies: Sequence[IPNetwork]) -> bool:
    return address is not None and any(address in network for network in proxies)


def client_address(
    peer: str, forwarded_for: Sequence[str], trusted_proxies: Sequence[IPNetwork]
) -> str:
    """The client's address: ``peer`` (the TCP peer's address) or, when ``peer`` is a
    trusted proxy, what the proxies' ``X-Forwarded-For`` values (each header's value, in
    the order received) say."""
    current = _address(peer)
    if not trusted_proxies or not _trusted(current, trusted_proxies):
        return str(current) if current is not None else peer
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops[-FORWARDED_HOPS_MAX:]):
        if not _trusted(current, trusted_proxies):
            break
        address = _address(hop)
        if address is None:
            break
        current = address
    return str(current)


def normalize_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def _hostname(authority_or_url: str) -> str | None:
    """The lower-case host of ``https://host:port`` or of a ``Host`` header's ``host:port``;
    None when it cannot be read."""
    text = authority_or_url if "//" in authority_or_url else f"//{authority_or_url}"
    try:
        return urlsplit(text).hostname
    except ValueError:
        return None


def origin_allowed(origin: str | None, allowed: frozenset[str], host: str | None = None) -> bool:
    """True for a handshake without an Origin, or whose Origin is on ``allowed`` (a set of
    normalize_origin() values), or, when ``host`` (the handshake's Host header) is given,
    whose Origin names that same host on any port (the server's own client)."""
    if origin is None or normalize_origin(origin) in allowed:
        return True
    if host is None or normalize_origin(origin) == "null":
        return False
    own = _hostname(host)
    return own is not None and _hostname(normalize_origin(origin)) == own


def header_values(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[str]:
    """Every value of header ``name`` (lower case), decoded as Latin-1 like HTTP/1.1."""
    return [value.decode("latin-1") for key, value in headers if key.lower() == name]
