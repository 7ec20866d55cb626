"""The admin listener's network allow-list (admin/network.py): clients outside it get 403
before anything else, whatever they send; the address is read through trusted proxies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from admin.network import AdminNetworks
from server.config import Settings
from tests.admin.conftest import bearer

OFFICE = "10.20.0.0/16"
PROXY = "192.0.2.10"
INSIDE = ("10.20.3.4", 5555)
OUTSIDE = ("203.0.113.9", 5555)


def client_for(make_client: Callable[..., Any], **settings: Any) -> Any:
    return make_client(settings=Settings(**settings))


async def test_a_client_outside_the_networks_gets_403_before_authentication(
    make_client: Callable[..., Any],
) -> None:
    client = client_for(make_client, admin_allowed_networks=(OFFICE,))
    for path in ("/healthz", "/metrics", "/info", "/openapi.json"):
        response = await client.get(path, scope_base={"client": OUTSIDE})
        assert response.status_code == 403, path
        assert await response.get_json() == {
            "error": "address_forbidden",
            "message": "this address may not use this API",
        }
        assert response.headers["Connection"] == "close"
    # A valid staff token changes nothing: the address is checked first.
    response = await client.get("/info", headers=bearer("admin"), scope_base={"client": OUTSIDE})
    assert response.status_code == 403


async def test_a_refusal_is_logged_with_the_address_the_server_saw(
    make_client: Callable[..., Any],
) -> None:
    import structlog

    client = client_for(make_client, admin_allowed_networks=(OFFICE,), trusted_proxies=(PROXY,))
    with structlog.testing.capture_logs() as logged:
        await client.get(
            "/info", headers={"X-Forwarded-For": "203.0.113.9"}, scope_base={"client": (PROXY, 1)}
        )
    (refusal,) = [e for e in logged if e["event"].startswith("admin request refused")]
    # The log pipeline turns the address into address_hash (server/logs.py).
    assert (refusal["address"], refusal["route"]) == ("203.0.113.9", "/info")


async def test_a_refused_client_gets_403_whatever_its_body(
    make_client: Callable[..., Any],
) -> None:
    client = client_for(make_client, admin_allowed_networks=(OFFICE,))
    response = await client.post(
        "/players/1/ban",
        data=b"\xff not json",
        headers={"Content-Type": "application/json"},
        scope_base={"client": OUTSIDE},
    )
    assert response.status_code == 403
    assert (await response.get_json())["error"] == "address_forbidden"


async def test_a_client_inside_the_networks_goes_on_to_authentication(
    make_client: Callable[..., Any],
) -> None:
    client = client_for(make_client, admin_allowed_networks=(OFFICE, "127.0.0.1"))
    assert (await client.get("/healthz", scope_base={"client": INSIDE})).status_code == 200
    unauthenticated = await client.get("/info", scope_base={"client": INSIDE})
    assert unauthenticated.status_code == 401
    assert (await unauthenticated.get_json())["error"] == "not_authenticated"
    allowed = await client.get("/info", headers=bearer("admin"), scope_base={"client": INSIDE})
    assert allowed.status_code == 200


async def test_without_networks_every_client_may(make_client: Callable[..., Any]) -> None:
    client = client_for(make_client)
    assert (await client.get("/healthz", scope_base={"client": OUTSIDE})).status_code == 200


async def test_behind_a_trusted_proxy_the_forwarded_address_decides(
    make_client: Callable[..., Any],
) -> None:
    client = client_for(make_client, admin_allowed_networks=(OFFICE,), trusted_proxies=(PROXY,))
    via_proxy = {"client": (PROXY, 443)}
    inside = await client.get(
        "/healthz", headers={"X-Forwarded-For": "10.20.9.9"}, scope_base=via_proxy
    )
    assert inside.status_code == 200
    outside = await client.get(
        "/healthz", headers={"X-Forwarded-For": "203.0.113.9"}, scope_base=via_proxy
    )
    assert outside.status_code == 403
    # The proxy itself is not in the office network: no header, no entry.
    assert (await client.get("/healthz", scope_base=via_proxy)).status_code == 403


async def test_a_forwarded_address_from_an_untrusted_peer_is_ignored(
    make_client: Callable[..., Any],
) -> None:
    client = client_for(make_client, admin_allowed_networks=(OFFICE,))
    forged = await client.get(
        "/healthz", headers={"X-Forwarded-For": "10.20.9.9"}, scope_base={"client": OUTSIDE}
    )
    assert forged.status_code == 403


@pytest.mark.parametrize(
    ("peer", "forwarded", "allowed"),
    [
        ("10.20.0.1", [], True),
        ("10.21.0.1", [], False),
        ("::ffff:10.20.0.1", [], True),  # an IPv4 client on a dual-stack socket
        ("2001:db8::1", [], True),
        ("2001:db9::1", [], False),
        (None, [], False),  # not an IP connection (a Unix socket)
        ("not-an-address", [], False),
        (PROXY, ["10.20.1.1"], True),
        (PROXY, ["10.20.1.1, 203.0.113.1"], False),  # the nearest hop is the client
        (PROXY, ["203.0.113.1, 10.20.1.1"], True),
        (PROXY, ["garbage"], False),
    ],
)
def test_which_addresses_are_allowed(peer: str | None, forwarded: list[str], allowed: bool) -> None:
    networks = AdminNetworks((OFFICE, "2001:db8::/32"), (PROXY,))
    assert networks.allows(peer, forwarded) is allowed


@given(
    peer=st.none() | st.ip_addresses().map(str) | st.text(max_size=40),
    forwarded=st.lists(st.text(max_size=60), max_size=4),
)
def test_any_peer_and_header_is_an_answer_not_an_error(
    peer: str | None, forwarded: list[str]
) -> None:
    networks = AdminNetworks((OFFICE,), (PROXY, "10.0.0.0/8"))
    assert networks.allows(peer, forwarded) in (True, False)
