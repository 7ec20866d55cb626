"""Every protected admin route, for every role: allowed or denied as the permission table says."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from admin.permissions import ROLE_PERMISSIONS, Permission, Role
from persistence import HandPlayer, HandRecord, Store
from services.clubs import Clubs
from tests.admin.conftest import bearer

PLAYER_ID = 1  # the first account the fixture creates
BAN = {"reason": "matrix test"}
ADJUST = {"amount": 5, "reason": "matrix test", "key": "matrix"}
NEW_TABLE = {
    "table_id": "m-1",
    "name": "Matrix",
    "variant": "NT",
    "small_blind": 1,
    "big_blind": 2,
    "reason": "matrix test",
}
NEW_TOURNAMENT = {"name": "Matrix", "preset": "hyper", "reason": "matrix test"}

# (method, path, JSON body, permission) for every protected route.
ROUTES: list[tuple[str, str, dict[str, Any] | None, Permission]] = [
    ("GET", "/info", None, Permission.SERVER_READ),
    ("GET", "/actors", None, Permission.ACTORS_READ),
    ("GET", "/actors/root", None, Permission.ACTORS_READ),
    ("GET", "/players?q=al", None, Permission.PLAYERS_READ),
    ("GET", f"/players/{PLAYER_ID}", None, Permission.PLAYERS_READ),
    ("POST", f"/players/{PLAYER_ID}/ban", BAN, Permission.PLAYERS_BAN),
    ("POST", f"/players/{PLAYER_ID}/unban", BAN, Permission.PLAYERS_BAN),
    ("GET", f"/players/{PLAYER_ID}/wallet", None, Permission.WALLET_READ),
    ("GET", f"/players/{PLAYER_ID}/wallet/entries", None, Permission.WALLET_READ),
    ("POST", f"/players/{PLAYER_ID}/wallet/adjustments", ADJUST, Permission.WALLET_ADJUST),
    ("GET", f"/players/{PLAYER_ID}/hands", None, Permission.HANDS_READ),
    ("GET", "/players/profiles?q=al", None, Permission.PLAYERS_READ),
    ("GET", f"/players/{PLAYER_ID}/profile", None, Permission.PLAYERS_READ),
    ("GET", f"/players/{PLAYER_ID}/stats", None, Permission.PLAYERS_READ),
    (
        "POST",
        f"/players/{PLAYER_ID}/display-name",
        {"display_name": "Renamed One", "reason": "matrix test"},
        Permission.PLAYERS_RENAME,
    ),
    ("GET", "/hands/h-1", None, Permission.HANDS_READ),
    ("GET", "/audit", None, Permission.AUDIT_READ),
    ("GET", "/tables", None, Permission.TABLES_READ),
    ("GET", "/tables/t-1", None, Permission.TABLES_READ),
    ("POST", "/tables", NEW_TABLE, Permission.TABLES_WRITE),
    ("POST", "/tables/t-1/pause", BAN, Permission.TABLES_WRITE),
    ("POST", "/tables/t-1/resume", BAN, Permission.TABLES_WRITE),
    ("POST", "/tables/t-1/close", BAN, Permission.TABLES_WRITE),
    # Creating (201) and revoking API keys: tests/api/test_api_keys.py, for every role.
    ("GET", "/api-keys", None, Permission.API_KEYS_READ),
    ("GET", "/integrity/dumping", None, Permission.INTEGRITY_READ),
    ("GET", "/integrity/collusion", None, Permission.INTEGRITY_READ),
    # One flag and the decisions on it need a raised flag: tests/admin/test_integrity_routes.py.
    # Clubs and rakeback (admin/clubs.py); the club is made by the ``seeded`` fixture.
    ("GET", "/clubs/1", None, Permission.CLUBS_READ),
    ("GET", "/clubs/1/members", None, Permission.CLUBS_READ),
    ("GET", "/clubs/1/stats?period=week:2025-01-06", None, Permission.CLUBS_READ),
    ("POST", "/clubs/1/deal", {"deal_bp": 2_000, "reason": "matrix test"}, Permission.CLUBS_WRITE),
    (
        "POST",
        "/clubs/1/tables",
        {"table_id": "c-1", "reason": "matrix test"},
        Permission.CLUBS_WRITE,
    ),
    ("POST", f"/clubs/1/bans/{PLAYER_ID}", BAN, Permission.CLUBS_WRITE),
    ("GET", "/rakeback/house/week:2025-01-06/preview", None, Permission.RAKEBACK_READ),
    ("GET", "/rakeback/club:1/week:2025-01-06/verify", None, Permission.RAKEBACK_READ),
    ("POST", "/rakeback/house/week:2025-01-06/distribute", BAN, Permission.RAKEBACK_RUN),
    ("GET", "/rakeback/house/week:2025-01-06/players/1/trace", None, Permission.RAKEBACK_READ),
    ("GET", f"/players/{PLAYER_ID}/rakeback", None, Permission.RAKEBACK_READ),
    # Tournaments (admin/tournaments.py), against the stand-in tournament 7 (registering);
    # every other change: tests/admin/test_tournament_routes.py.
    ("GET", "/tournaments", None, Permission.TOURNAMENTS_READ),
    ("GET", "/tournaments/7", None, Permission.TOURNAMENTS_READ),
    ("GET", "/tournaments/7/results", None, Permission.TOURNAMENTS_READ),
    ("GET", "/tournaments/7/results.csv", None, Permission.TOURNAMENTS_READ),
    ("POST", "/tournaments", NEW_TOURNAMENT, Permission.TOURNAMENTS_WRITE),
    ("POST", "/tournaments/7/start", BAN, Permission.TOURNAMENTS_WRITE),
    ("POST", "/tournaments/7/cancel", BAN, Permission.TOURNAMENTS_WRITE),
]


@pytest.fixture
async def seeded(store: Store) -> Store:
    alice = await store.create_account("alice", "hash", "player")
    assert alice.id == PLAYER_ID
    bob = await store.create_account("bob", "hash", "player")
    await Clubs(store).create(bob.id, "Matrix club", "")
    await store.save_hand(
        HandRecord(
            hand_id="h-1",
            table_id="table:1",
            game="NT 1/2",
            started_at_ms=1,
            ended_at_ms=2,
            pot_total=4,
            rake=0,
            players=(HandPlayer(PLAYER_ID, 0, 2),),
            phh="",
        )
    )
    return store


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("method", "path", "body", "permission"), ROUTES)
async def test_route_allows_exactly_the_roles_with_its_permission(
    make_client: Callable[..., Any],
    seeded: Store,
    role: Role,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    permission: Permission,
) -> None:
    response = await make_client().open(path, method=method, headers=bearer(role), json=body)
    if permission in ROLE_PERMISSIONS[role]:
        assert response.status_code == 200, await response.get_data()
    else:
        assert response.status_code == 403
        assert (await response.get_json())["error"] == "forbidden"
    audit = await seeded.list_audit()
    if method == "POST" and permission in ROLE_PERMISSIONS[role]:
        if permission in (Permission.TABLES_WRITE, Permission.TOURNAMENTS_WRITE):
            # A table's or a tournament's change is an actor's: its intent is logged before,
            # its outcome after.
            assert [e.after["outcome"] for e in audit] == ["done", "requested"]
        elif permission == Permission.RAKEBACK_RUN:
            # A distribution is logged when frozen and when closed (services/rakeback.py).
            assert [e.after["step"] for e in audit] == ["closed", "frozen"]
        else:
            assert len(audit) == 1
        for entry in audit:
            assert (entry.subject, entry.role, entry.reason) == ("staff-1", role, "matrix test")
        assert len({entry.request_id for entry in audit}) == 1
    else:
        assert audit == [], "only a permitted state change is audited"


@pytest.mark.parametrize(("method", "path", "body", "permission"), ROUTES)
async def test_route_without_a_token_is_not_authenticated(
    make_client: Callable[..., Any],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    permission: Permission,
) -> None:
    response = await make_client().open(path, method=method, json=body)
    assert response.status_code == 401
    assert (await response.get_json())["error"] == "not_authenticated"


async def test_token_signed_with_another_secret_is_refused(
    make_client: Callable[..., Any],
) -> None:
    from server.auth import TokenSigner

    forged, _ = TokenSigner("another-secret-" + "y" * 40).issue("mallory", "admin")
    response = await make_client().get("/info", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert (await response.get_json())["error"] == "token_invalid"


async def test_expired_token_is_refused(make_client: Callable[..., Any]) -> None:
    response = await make_client().get("/info", headers=bearer("admin", ttl_s=-3600))
    assert response.status_code == 401
    assert (await response.get_json())["error"] == "token_expired"


async def test_server_info_names_the_backend_without_credentials(
    make_client: Callable[..., Any],
) -> None:
    body = await (await make_client().get("/info", headers=bearer("admin"))).get_json()
    assert body["database"] == "sqlite"
    assert body["redis"] is False
