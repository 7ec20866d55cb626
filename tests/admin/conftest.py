from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from admin.app import create_admin_app
from admin.auth import jwt_verifier
from admin.context import AdminContext, ReadinessProbe
from persistence import Store, open_store
from server.auth import TokenSigner
from server.config import Settings
from services.wallet import Wallet

SECRET = "test-secret-" + "x" * 40


def bearer(role: str, *, subject: str = "staff-1", ttl_s: int | None = None) -> dict[str, str]:
    token, _ = TokenSigner(SECRET).issue(subject, role, ttl_s=ttl_s)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with open_store(f"sqlite:///{tmp_path / 'admin.sqlite3'}") as opened:
        yield opened


@pytest.fixture
def make_client(store: Store) -> Callable[..., Any]:
    def make(*probes: ReadinessProbe, actor_tree: Any = None) -> Any:
        context = AdminContext(
            settings=Settings(),
            verify_token=jwt_verifier(TokenSigner(SECRET)),
            store=store,
            wallet=Wallet(store),
            readiness=probes,
            actor_tree=actor_tree,
        )
        return create_admin_app(context).test_client()

    return make
