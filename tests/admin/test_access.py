"""Every protected admin route, for every role: allowed or denied as the permission table says."""

from __future__ import annotations

import pytest

from admin.app import AdminContext, create_admin_app, jwt_verifier
from admin.permissions import ROLE_PERMISSIONS, Permission, Role
from server.auth import TokenSigner
from server.config import Settings

SECRET = "test-secret-" + "x" * 40
# (method, path, permission) for every protected route; grows with the API.
ROUTES: list[tuple[str, str, Permission]] = [
    ("GET", "/info", Permission.SERVER_READ),
    ("GET", "/actors", Permission.ACTORS_READ),
    ("GET", "/actors/root", Permission.ACTORS_READ),
]


def _client():  # type: ignore[no-untyped-def]
    context = AdminContext(Settings(), jwt_verifier(TokenSigner(SECRET)))
    return create_admin_app(context).test_client()


def _token(role: str, *, secret: str = SECRET, ttl_s: int | None = None) -> str:
    token, _ = TokenSigner(secret).issue("staff-1", role, ttl_s=ttl_s)  # type: ignore[arg-type]
    return token


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("method", "path", "permission"), ROUTES)
async def test_route_allows_exactly_the_roles_with_its_permission(
    role: Role, method: str, path: str, permission: Permission
) -> None:
    response = await _client().open(
        path, method=method, headers={"Authorization": f"Bearer {_token(role)}"}
    )
    if permission in ROLE_PERMISSIONS[role]:
        assert response.status_code == 200, await response.get_data()
    else:
        assert response.status_code == 403
        assert (await response.get_json())["error"] == "forbidden"


@pytest.mark.parametrize(("method", "path", "permission"), ROUTES)
async def test_route_without_a_token_is_not_authenticated(
    method: str, path: str, permission: Permission
) -> None:
    response = await _client().open(path, method=method)
    assert response.status_code == 401
    assert (await response.get_json())["error"] == "not_authenticated"


async def test_token_signed_with_another_secret_is_refused() -> None:
    forged = _token("admin", secret="another-secret-" + "y" * 40)
    response = await _client().get("/info", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert (await response.get_json())["error"] == "token_invalid"


async def test_expired_token_is_refused() -> None:
    expired = _token("admin", ttl_s=-3600)
    response = await _client().get("/info", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert (await response.get_json())["error"] == "token_expired"


async def test_server_info_names_the_backend_without_credentials() -> None:
    response = await _client().get("/info", headers={"Authorization": f"Bearer {_token('admin')}"})
    body = await response.get_json()
    assert body["database"] == "sqlite"
    assert body["redis"] is False
