"""Random sequences of club operations by random players (hypothesis): whatever is allowed or
refused, the club's invariants hold after every step. Refusals must be ClubErrors (a stable
code), never anything else."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any

import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from persistence import open_store
from persistence.audit import AuditStamp
from persistence.store import Store
from persistence.work import Query, Work
from rakeback.tiers import Tier, TierTable
from services.club_rules import ClubError
from services.clubs import Clubs

PLAYERS = 5
STAFF = AuditStamp("staff", "admin", "clubs.deal", "club:1", "fuzz", "r")
OPS = st.tuples(
    st.sampled_from([
        "join", "invite", "accept", "decline", "approve", "reject", "remove", "ban", "unban",
        "role_manager", "role_agent", "role_member", "agent", "no_agent", "leave", "owner",
        "policy", "tiers", "commission", "deal",
    ]),
    st.integers(1, PLAYERS), st.integers(1, PLAYERS), st.integers(0, 6_000),
)  # fmt: skip


def _rows() -> Work[Any]:
    members = yield Query(
        "SELECT player_id, role, agent_id, commission_bp FROM club_members WHERE club_id = 1"
    )
    bans = yield Query("SELECT player_id FROM club_bans WHERE club_id = 1")
    club = yield Query("SELECT owner_id, rakeback_deal_bp, tiers_json FROM clubs WHERE id = 1")
    return members, bans, club[0]


async def _check(store: Store, clubs: Clubs) -> None:
    members, bans, (owner_id, deal, _) = await store.run(_rows)
    roles = {int(p): r for p, r, _, _ in members}
    assert [p for p, r in roles.items() if r == "owner"] == [int(owner_id)]
    assert not {int(b[0]) for b in bans} & set(roles), "a banned player is a member"
    for player, role, agent, rate in members:
        if agent is not None:
            assert roles.get(int(agent)) == "agent" and int(agent) != int(player)
        assert int(rate) == 0 or role == "agent"
        assert int(rate) <= int(deal)
    benefits = await clubs.benefits(None, 1)
    if benefits.tiers:
        assert max(t.rakeback_bp for t in benefits.tiers) <= int(deal)


async def _run(tmp: Path, ops: list[tuple[str, int, int, int]]) -> None:
    async with open_store(f"sqlite:///{tmp / 'c.sqlite3'}") as store:
        for i in range(PLAYERS):
            await store.create_account(f"p{i + 1}", "hash", "player")
        clubs = Clubs(store)
        info = await clubs.create(1, "Fuzz club", "", "approval")
        for op, actor, target, number in ops:
            with contextlib.suppress(ClubError):
                await _apply(clubs, info.code, op, actor, target, number)
            await _check(store, clubs)


async def _apply(clubs: Clubs, code: str, op: str, a: int, t: int, n: int) -> None:
    match op:
        case "join":
            await clubs.join(a, code, t if n % 2 else None)
        case "invite":
            await clubs.invite(a, 1, t)
        case "accept":
            await clubs.accept_invitation(a, 1)
        case "decline":
            await clubs.decline_invitation(a, 1)
        case "approve" | "reject":
            await clubs.review_request(a, 1, t, op == "approve")
        case "remove":
            await clubs.remove(a, 1, t)
        case "ban":
            await clubs.ban(a, 1, t)
        case "unban":
            await clubs.unban(a, 1, t)
        case "role_manager" | "role_agent" | "role_member":
            await clubs.set_role(a, 1, t, op.removeprefix("role_"), n)
        case "agent":
            await clubs.set_agent(a, 1, t, n % PLAYERS + 1)
        case "no_agent":
            await clubs.set_agent(a, 1, t, None)
        case "leave":
            await clubs.leave(a, 1)
        case "owner":
            await clubs.transfer_ownership(a, 1, t)
        case "policy":
            await clubs.update(a, 1, join_policy=("open", "approval", "invitation")[n % 3])
        case "tiers":
            await clubs.set_tiers(a, 1, TierTable((Tier("Base", 0, n),)))
        case "commission":
            await clubs.set_commission(a, 1, t, n)
        case "deal":
            await clubs.set_deal(1, n % 10_001, STAFF)


@settings(max_examples=60, deadline=None, database=None)
@given(st.lists(OPS, min_size=1, max_size=25))
def test_club_invariants_hold_after_any_sequence(ops: list[tuple[str, int, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        trio.run(_run, Path(tmp), ops)
