"""Done when (issue 20), on a real server and both backends: an owner sets up a club over the
websocket (staff set its deal over the admin API), an agent invites members, the owner opens
a club table with ``club_create_table``, members play hands with rake at it (and two of them
at a public table), then the period is distributed and every chip of rakeback and agent
commission paid is checked against a recompute written out here, hand by hand, from the
stored hand records and their rake shares; ``Rakeback.verify`` (``tablium rakeback verify``)
agrees and the ledger audit is clean.

The server stamps hands with the wall clock, so the period is today's (or, across a
midnight, the days its hands ended in); the distribution runs on a second store of the same
database whose clock stands past the period's end and settle delay."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import httpx
import msgspec
import pytest
import trio

from actors.club_tables import ClubTableSpec
from actors.table.config import TableConfig
from persistence.audit import AuditStamp
from persistence.hands import HandSummary
from persistence.store import open_store
from protocol import clubs as wire
from protocol import game
from rakeback.periods import Period, period_containing
from rakeback.tiers import DEFAULT_TIERS
from server.auth import TokenSigner
from services.ledger import RAKE, house_account, rakeback_account
from services.rakeback import Rakeback, RakebackPolicy
from services.wallet import Wallet
from tests.e2e.harness import (
    JWT_SECRET,
    Frames,
    Player,
    Server,
    running_server,
    settings_for,
    table_config,
)
from tests.persistence.stores import BACKENDS, ManualClock, store_url

DEAL_BP: Final = 5_000
AGENT_BP: Final = 3_000
CLUB_TIERS: Final = ((0, 1_000), (50, 2_500))  # (threshold points, rakeback bp)
STAKES: Final[dict[str, Any]] = {"variant": "NT", "small_blind": 100, "big_blind": 200}
BUY_IN: Final = 10_000
CLUB_HANDS: Final = 8
PUBLIC_HANDS: Final = 3
STAFF: Final = AuditStamp("staff", "admin", "rakeback.distribute", "rakeback", "daily run", "r-1")


async def _request(player: Player, message: Any, reply: type[Any]) -> Any:
    answer = await player.client.request(message)
    assert isinstance(answer, reply), answer
    return answer


async def _staff_sets_deal(server: Server, club_id: int) -> None:
    token, _ = TokenSigner(JWT_SECRET).issue("ops", "admin")
    async with httpx.AsyncClient(base_url=server.listening.admin_url) as admin:
        answer = await admin.post(
            f"/clubs/{club_id}/deal",
            json={"deal_bp": DEAL_BP, "reason": "the club's agreement"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 200, answer.text


async def _invited(by: Player, club_id: int, player: Player) -> wire.MemberRecord:
    await by.client.request(wire.ClubInvite(id=0, club_id=club_id, player_id=player.player_id))
    joined = await _request(
        player, wire.ClubAnswerInvitation(id=0, club_id=club_id, accept=True), wire.ClubJoined
    )
    assert joined.state == "member" and joined.member is not None
    member: wire.MemberRecord = joined.member
    return member


async def _play_hand(
    frames: Frames,
    table_id: str,
    players: list[Player],
    folders: frozenset[int],
    last: bool,
) -> tuple[int, int]:
    """One hand at ``table_id``: every player checks or calls to the showdown, except that a
    player in ``folders`` folds whenever a call is asked of her (she pays her blinds only).
    ``last``: everyone sits out from the next hand, so no hand runs after this one (the
    between-hands pause is 0). (hand number, rake) from the first player's ``hand_ended``."""
    by_id = {p.player_id: p for p in players}
    sat_out = False
    with trio.fail_after(10):
        async for player_id, body in frames:
            if getattr(body, "table_id", None) != table_id:
                continue
            player = by_id.get(player_id)
            if isinstance(body, game.HandEnded) and player is players[0]:
                return body.hand_number, body.rake
            if not isinstance(body, game.ActionRequired) or player is None:
                continue
            if player.seats.get(table_id) != body.seat:
                continue
            if last and not sat_out:
                for p in players:
                    await p.client.request(game.SitOut(id=0, table_id=table_id))
                sat_out = True
            legal = body.legal
            if player_id in folders and legal.call and legal.fold:
                await player.client.act(body, "fold")
            else:
                await player.client.act(body, "show" if legal.show else "check_or_call")
    raise AssertionError("the frame stream ended")


def _tier_bp(tiers: tuple[tuple[int, int], ...], index: int) -> int:
    return tiers[index][1]


def _earned(tiers: tuple[tuple[int, int], ...], points: int) -> int:
    return max(i for i, (threshold, _) in enumerate(tiers) if points >= threshold)


def _recompute_rakeback(
    tiers: tuple[tuple[int, int], ...], rake_by_period: list[dict[int, int]]
) -> list[dict[int, int]]:
    """Per period, in order, each player's rakeback (docs/rakeback.md "Tiers and the grace
    rule", 1 point per chip): the tier paid is the higher of the status kept from the last
    period and the one this period's points earn; a player drops at most a tier a period."""
    status: dict[int, int] = {}
    paid: list[dict[int, int]] = []
    for rake in rake_by_period:
        rakeback: dict[int, int] = {}
        for p, r in rake.items():
            tier = max(status.get(p, 0), _earned(tiers, r))
            rakeback[p] = r * _tier_bp(tiers, tier) // 10_000
        following: dict[int, int] = {}
        for p in set(status) | set(rake):
            earned, before = _earned(tiers, rake.get(p, 0)), status.get(p, 0)
            following[p] = earned if earned >= before else max(earned, before - 1)
        status = following
        paid.append(rakeback)
    return paid


def _rake_by_player(
    hands: list[HandSummary], period: Period, keep: Callable[[HandSummary], bool]
) -> dict[int, int]:
    rake: dict[int, int] = {}
    for hand in hands:
        if keep(hand) and period.start_ms <= hand.ended_at_ms < period.end_ms:
            for seat in hand.players:
                if seat.rake_paid:
                    rake[seat.player_id] = rake.get(seat.player_id, 0) + seat.rake_paid
    return rake


@pytest.mark.parametrize("backend", BACKENDS)
async def test_club_table_hands_by_agents_members_pay_every_chip_of_rakeback_and_commission(
    backend: str, tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The house's two seconds between hands are real time; nothing here is about them.
    config = ClubTableSpec.config

    def no_pause(spec: ClubTableSpec, table_id: str, club_id: int) -> TableConfig:
        return msgspec.structs.replace(config(spec, table_id, club_id), between_hands_ms=0)

    monkeypatch.setattr(ClubTableSpec, "config", no_pause)
    database_url = await store_url(backend, tmp_path, postgres_url)
    async with running_server(tmp_path, database_url) as server:
        frames = server.recorder.stream()
        olga, ada, bea, cid, eve = [
            await server.player(name, seed, acting=False)
            for seed, name in enumerate(("olga", "ada", "bea", "cid", "eve"))
        ]
        created = await _request(
            olga, wire.ClubCreate(id=0, name="Night Owls", join_policy="invitation"), wire.ClubInfo
        )
        club_id = created.club.club_id
        await _staff_sets_deal(server, club_id)
        await _invited(olga, club_id, ada)
        made_agent = await _request(
            olga,
            wire.ClubSetRole(id=0, club_id=club_id, player_id=ada.player_id, role="agent",
                             commission_bp=AGENT_BP),
            wire.ClubMember,
        )  # fmt: skip
        assert made_agent.member.commission_bp == AGENT_BP
        for member in (bea, cid):  # the agent brings two players ...
            assert (await _invited(ada, club_id, member)).agent_id == ada.player_id
        assert (await _invited(olga, club_id, eve)).agent_id is None  # ... and the owner one
        tiers = [wire.TierRecord(name=f"T{i}", threshold_points=t, rakeback_bp=bp)
                 for i, (t, bp) in enumerate(CLUB_TIERS)]  # fmt: skip
        detail = await _request(
            olga, wire.ClubSetTiers(id=0, club_id=club_id, tiers=tiers), wire.ClubDetail
        )
        assert detail.rakeback_deal_bp == DEAL_BP
        assert [(r.agent_id, r.commission_bp) for r in detail.agent_rates] == [
            (ada.player_id, AGENT_BP)
        ]
        opened = await _request(
            olga, wire.ClubCreateTable(id=0, club_id=club_id, name="Owls NL", **STAKES),
            wire.ClubTableCreated,
        )  # fmt: skip
        club_table: str = opened.table_id

        # Hands at the club table: Eve folds to every bet, so her share is her blinds only.
        seated = [olga, bea, ada, cid, eve]
        for seat, player in enumerate(seated):
            await player.join(club_table, BUY_IN, seat)
        folders = frozenset({eve.player_id})
        reported: dict[tuple[str, int], int] = {}  # (table, hand number) -> ``hand_ended``'s rake
        for i in range(CLUB_HANDS):
            number, rake = await _play_hand(
                frames, club_table, seated, folders, last=i == CLUB_HANDS - 1
            )
            reported[(club_table, number)] = rake
        await server.audit(club_table)  # asked after the last hand: its history is written

        # Two of the members at a public table: the house's program, not the club's.
        await server.open_table(table_config("pub-1", small_blind=100, big_blind=200))
        for seat, player in enumerate((bea, cid)):
            await player.join("pub-1", BUY_IN, seat)
        for i in range(PUBLIC_HANDS):
            number, rake = await _play_hand(
                frames, "pub-1", [bea, cid], frozenset(), last=i == PUBLIC_HANDS - 1
            )
            reported[("pub-1", number)] = rake
        await server.audit("pub-1")

        # The hands as stored: each one the players were told of, its shares summing to its
        # rake. The recompute below reads only these.
        stored = [
            *await server.store.hands_by_table(club_table, limit=100),
            *await server.store.hands_by_table("pub-1", limit=100),
        ]
        assert {(h.table_id, int(h.hand_id.rsplit(":", 1)[1])): h.rake for h in stored} == reported
        for hand in stored:
            assert sum(p.rake_paid for p in hand.players) == hand.rake, hand
        assert sum(h.rake for h in stored if h.table_id == club_table) > 0
        shares = {p.rake_paid for h in stored if h.table_id == club_table for p in h.players}
        assert len(shares) > 2  # weighted: the folder's share differs from the callers'

        periods = sorted({period_containing("day", h.ended_at_ms) for h in stored},
                         key=lambda p: p.start_ms)  # fmt: skip
        policy = RakebackPolicy(period_kind="day")
        clock = ManualClock(periods[-1].end_ms + policy.settle_delay_ms)
        players = (olga, ada, bea, cid, eve)
        ids = [p.player_id for p in players]
        url = settings_for(tmp_path, database_url).effective_database_url()
        async with open_store(url, clock_ms=clock) as store:
            wallet = Wallet(store)
            rakeback = Rakeback(store, wallet, policy)
            before = {p: (await wallet.balance(p)).balance for p in ids}
            rake_account = house_account(RAKE)
            rake_before = (await store.ledger_account(rake_account)).balance  # type: ignore[union-attr]
            club_runs, house_runs = [], []
            for period in periods:
                club_runs.append(await rakeback.distribute(f"club:{club_id}", period, STAFF))
                house_runs.append(await rakeback.distribute("house", period, STAFF))
            assert {r.state for r in club_runs + house_runs} == {"closed"}
            for period in periods:
                for scope in (f"club:{club_id}", "house"):
                    check = await rakeback.verify(scope, period)
                    assert check.ok, check.problems
            got = {p: (await wallet.balance(p)).balance - before[p] for p in ids}
            rake_after = (await store.ledger_account(rake_account)).balance  # type: ignore[union-attr]
            club_fund = await store.ledger_account(rakeback_account(f"club:{club_id}"))
            audit = await store.ledger_audit()
            assert audit.consistent, audit

        # The recompute, hand by hand, from the stored hands (not from rakeback/).
        def at_club(hand: HandSummary) -> bool:
            return hand.table_id == club_table

        club_rake = [_rake_by_player(stored, p, at_club) for p in periods]
        house_rake = [_rake_by_player(stored, p, lambda h: not at_club(h)) for p in periods]
        club_rb = _recompute_rakeback(CLUB_TIERS, club_rake)
        house_tiers = tuple((t.threshold_points, t.rakeback_bp) for t in DEFAULT_TIERS.tiers)
        house_rb = _recompute_rakeback(house_tiers, house_rake)
        brought = (bea.player_id, cid.player_id)
        commission = [
            max(0, sum(r.get(p, 0) for p in brought) * AGENT_BP // 10_000
                - sum(rb.get(p, 0) for p in brought))
            for r, rb in zip(club_rake, club_rb, strict=True)
        ]  # fmt: skip
        # Not degenerate: a commission, both club tiers and the house's rakeback are paid.
        assert sum(commission) > 0
        paid_tiers = {_earned(CLUB_TIERS, r) for rake in club_rake for r in rake.values()}
        assert paid_tiers == {0, 1}
        assert sum(v for rb in house_rb for v in rb.values()) > 0

        for p in ids:
            want = sum(rb.get(p, 0) for rb in club_rb) + sum(rb.get(p, 0) for rb in house_rb)
            want += sum(commission) if p == ada.player_id else 0
            assert got[p] == want, (p, got[p], want)
        assert sum(r.rakeback_paid for r in club_runs) == sum(sum(rb.values()) for rb in club_rb)
        assert sum(r.commission_paid for r in club_runs) == sum(commission)
        assert sum(r.rakeback_paid for r in house_runs) == sum(sum(rb.values()) for rb in house_rb)
        share = sum(sum(r.values()) * DEAL_BP // 10_000 for r in club_rake)
        club_paid = sum(sum(rb.values()) for rb in club_rb) + sum(commission)
        assert club_fund is not None and club_fund.balance == share - club_paid
        house_paid = sum(sum(rb.values()) for rb in house_rb)
        assert rake_before - rake_after == share + house_paid

        # The agent's statement and the club's statistics over the websocket agree.
        statement = await _request(ada, wire.RakebackStatementRequest(id=0),
                                   wire.RakebackStatement)  # fmt: skip
        lines = [ln for ln in statement.lines if ln.kind == "commission"]
        assert {ln.scope for ln in lines} == {f"club:{club_id}"}
        assert sum(ln.paid for ln in lines) == sum(commission)
        for period, rb, by_player, cut in zip(periods, club_rb, club_rake, commission, strict=True):
            stats = await _request(
                olga, wire.ClubStatsRequest(id=0, club_id=club_id, period=period.id),
                wire.ClubStats,
            )  # fmt: skip
            assert (stats.rake, stats.rakeback_paid, stats.commission_paid) == (
                sum(by_player.values()), sum(rb.values()), cut,
            )  # fmt: skip
