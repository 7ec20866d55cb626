"""Registration and login rules, over the real store (SQLite, and once on PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from persistence.store import Store, open_store
from protocol.errors import ErrorCode
from services.accounts import (
    AccountBanned,
    Accounts,
    BadCredentials,
    InvalidName,
    NameTaken,
    WeakPassword,
    is_reserved_name,
)
from services.passwords import (
    CHEAP_HASHING_FOR_TESTS,
    PasswordHasher,
    is_common_password,
    load_common_passwords,
)

PASSWORD = "correct horse battery"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with open_store(f"sqlite:///{tmp_path / 'accounts.sqlite3'}") as opened:
        yield opened


@pytest.fixture
def accounts(store: Store) -> Accounts:
    return Accounts(store, PasswordHasher(CHEAP_HASHING_FOR_TESTS))


async def test_a_registered_player_can_log_in(accounts: Accounts) -> None:
    created = await accounts.register("alice", PASSWORD)
    logged_in = await accounts.login("alice", PASSWORD)
    assert logged_in.id == created.id
    assert (logged_in.name, logged_in.role) == ("alice", "player")


async def test_the_password_is_stored_only_as_an_argon2id_hash(accounts: Accounts) -> None:
    account = await accounts.register("alice", PASSWORD)
    assert PASSWORD not in account.password_hash
    assert account.password_hash.startswith("$argon2id$")


async def test_a_wrong_password_is_bad_credentials(accounts: Accounts) -> None:
    await accounts.register("alice", PASSWORD)
    with pytest.raises(BadCredentials) as info:
        await accounts.login("alice", PASSWORD + "!")
    assert info.value.code is ErrorCode.BAD_CREDENTIALS


async def test_an_unknown_name_gets_the_same_answer_as_a_wrong_password(
    accounts: Accounts,
) -> None:
    with pytest.raises(BadCredentials) as info:
        await accounts.login("nobody", PASSWORD)
    assert info.value.message == "unknown name or wrong password"


async def test_a_failed_login_logs_the_name_only_when_it_is_an_accounts(
    accounts: Accounts,
) -> None:
    """A name that is no account may be a password typed into the name field: not logged."""
    import structlog

    await accounts.register("alice", PASSWORD)
    typed_in_the_wrong_field = "my-secret-passphrase"
    with structlog.testing.capture_logs() as logged:
        for name in ("alice", typed_in_the_wrong_field):
            with pytest.raises(BadCredentials):
                await accounts.login(name, "not the password", address="203.0.113.7")
    failures = [(e["name"], e["address"]) for e in logged if e["event"] == "login failed"]
    assert failures == [("alice", "203.0.113.7"), (None, "203.0.113.7")]
    assert typed_in_the_wrong_field not in repr(logged)


async def test_a_taken_name_is_refused_whatever_its_case(accounts: Accounts) -> None:
    await accounts.register("alice", PASSWORD)
    with pytest.raises(NameTaken) as info:
        await accounts.register("ALICE", PASSWORD)
    assert info.value.code is ErrorCode.NAME_TAKEN


@pytest.mark.parametrize("name", ["al", "-alice", "al ice", "guest-1234", "a" * 25, "ålice"])
async def test_malformed_or_reserved_names_are_refused(accounts: Accounts, name: str) -> None:
    with pytest.raises(InvalidName):
        await accounts.register(name, PASSWORD)


async def test_a_short_password_is_refused(accounts: Accounts) -> None:
    with pytest.raises(WeakPassword):
        await accounts.register("alice", "short")


async def test_a_banned_player_cannot_log_in_with_password_or_token(
    accounts: Accounts, store: Store
) -> None:
    account = await accounts.register("alice", PASSWORD)
    await store.set_account_banned(account.id, True)
    with pytest.raises(AccountBanned):
        await accounts.login("alice", PASSWORD)
    with pytest.raises(AccountBanned):
        await accounts.check_not_banned("alice")


async def test_registration_and_login_on_postgresql(postgres_url: str) -> None:
    async with open_store(postgres_url) as store:
        accounts = Accounts(store, PasswordHasher(CHEAP_HASHING_FOR_TESTS))
        created = await accounts.register("pg_alice", PASSWORD)
        assert (await accounts.login("pg_alice", PASSWORD)).id == created.id
        with pytest.raises(NameTaken):
            await accounts.register("PG_Alice", PASSWORD)
        with pytest.raises(BadCredentials):
            await accounts.login("pg_alice", "wrong password")


@pytest.mark.parametrize(
    "name",
    [
        "admin",
        "Administrator",
        "root",
        "r00t",
        "Support",
        "support-team",
        "moderator7",
        "tablium",
        "Adm1n",
        "staff",
        "cashier",
        "sys.op",
        "admin_42",
        "TabIium",
    ],
)
def test_staff_like_names_are_reserved(name: str) -> None:
    assert is_reserved_name(name), name


@pytest.mark.parametrize("name", ["alice", "badminton", "rooted_tree", "bot-0001", "carol99"])
def test_ordinary_names_are_not_reserved(name: str) -> None:
    assert not is_reserved_name(name), name


def test_the_common_password_list_is_bundled_and_large() -> None:
    assert load_common_passwords() >= 10_000
    assert is_common_password("12345678") and is_common_password("PASSWORD")
    assert not is_common_password(PASSWORD)


async def test_a_common_password_is_refused_before_any_hashing(accounts: Accounts) -> None:
    with pytest.raises(WeakPassword):
        await accounts.register("alice", "qwerty123")
    with pytest.raises(WeakPassword):
        await accounts.register("alice", "aaaaaaaaaaaa")
