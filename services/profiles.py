"""Public player profiles: what anyone may know about a player.

Today a player has a name, an id and the day she joined; later issues add more (issue 19:
profiles). The rule lives here, once, for every door: a banned player has no public profile
(her ban is nobody else's business, and she answers as an unknown player, as she does to
transfers), and nothing private (role, password hash, balances) is ever in one.
"""

from __future__ import annotations

from typing import Protocol, final

import msgspec

from persistence.accounts import Account


class ProfileStore(Protocol):
    async def get_account(self, account_id: int) -> Account | None: ...


@final
class PublicProfile(msgspec.Struct, frozen=True):
    id: int
    name: str
    member_since_ms: int  # when the account was created


async def public_profile(store: ProfileStore, player_id: int) -> PublicProfile | None:
    """The player's public profile, or None when she has none to show."""
    account = await store.get_account(player_id)
    if account is None or account.banned:
        return None
    return PublicProfile(
        id=account.id,
        name=account.name,
        member_since_ms=int(account.created_at.timestamp() * 1000),
    )
