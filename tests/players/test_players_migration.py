"""The players migration on accounts made before it, on both backends: every account gets a
profile named after it, and registrations and renames keep names unique."""

from __future__ import annotations

from pathlib import Path

import pytest

import persistence.postgres
import persistence.sqlite
from persistence.accounts import AccountExists
from persistence.migrations import Migration, migrations_for
from persistence.store import open_store
from persistence.work import Query, Work
from players.profiles import ProfileChange, ProfileRefused
from services import profiles
from tests.persistence.stores import BACKENDS, ManualClock, store_url

PLAYERS_MIGRATION = "players"  # by name: the number may change when branches merge


def _old_accounts() -> Work[None]:
    for name in ("alice", "Bob"):
        yield Query(
            "INSERT INTO accounts (name, name_folded, password_hash, role, banned, created_at_ms)"
            " VALUES ($1, $2, 'x', 'player', FALSE, 1000)",
            (name, name.casefold()),
        )


@pytest.mark.parametrize("backend", BACKENDS)
async def test_older_accounts_get_profiles(
    backend: str, tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = await store_url(backend, tmp_path, postgres_url)
    module = persistence.sqlite if backend == "sqlite" else persistence.postgres

    def before_players(dialect: str) -> list[Migration]:
        every = migrations_for(dialect)  # type: ignore[arg-type]
        return every[: next(i for i, m in enumerate(every) if m.name == PLAYERS_MIGRATION)]

    with monkeypatch.context() as patch:
        patch.setattr(module, "migrations_for", before_players)
        async with open_store(url) as old:
            await old.run(_old_accounts)
    async with open_store(url, clock_ms=ManualClock()) as store:
        bob = await profiles.own_profile(store, 2)
        assert bob is not None and bob.public.display_name == "Bob"
        assert bob.public.member_since_ms == 1000
        with pytest.raises(ProfileRefused) as refused:
            await profiles.update_profile(store, 1, ProfileChange(display_name="BOB"))
        assert refused.value.code == "display_name_taken"
        with pytest.raises(AccountExists):
            await store.create_account("ALICE", "x", "player")
        carol = await store.create_account("carol", "x", "player")
        assert (await profiles.display_names(store, [carol.id])) == {carol.id: "carol"}
