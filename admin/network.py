"""Which clients may use the admin listener: ``TABLIUM_ADMIN_ALLOWED_NETWORKS``.

Checked before anything else a request does (no body read, no token looked at): a client
outside the networks gets 403 ``address_forbidden`` and the connection is closed. The client
address is read as the websocket gateway reads it (server/handshake.py): the TCP peer, or
``X-Forwarded-For`` when the peer is one of ``TABLIUM_TRUSTED_PROXIES``. No networks: every
client may (the default; the Service or a NetworkPolicy then decides who reaches the port).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import final

from server.handshake import client_address, parse_networks


@final
class AdminNetworks:
    def __init__(self, allowed: Sequence[str], trusted_proxies: Sequence[str]) -> None:
        self.allowed = parse_networks(allowed)
        self.trusted_proxies = parse_networks(trusted_proxies)

    def allows(self, peer: str | None, forwarded_for: Sequence[str]) -> bool:
        """``peer``: the TCP peer's address (None: not an IP connection, e.g. a Unix
        socket); ``forwarded_for``: every X-Forwarded-For value, in the order received."""
        if not self.allowed:
            return True
        if peer is None:
            return False
        address = client_address(peer, forwarded_for, self.trusted_proxies)
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.allowed)
