"""Hands played at a club table by members an agent brought, a distribution, and every chip
of rakeback and commission checked against a hand-by-hand recompute written out here, apart
from rakeback/; on both backends.

The service-level half of issue 20's Done when: many random hands (tests/clubs/club_play.py
runs the engine and the real money and storage path, without table actors), a public table
beside the club's, statements and statistics. The same check on a real server, with the
club set up and its table opened over the websocket and hands played by its table actor, is
tests/e2e/test_club_rakeback_ws.py.
"""

from __future__ import annotations

import random

from persistence.audit import AuditStamp
from persistence.store import Store
from rakeback.periods import period_containing
from rakeback.tiers import Tier, TierTable
from services.clubs import Clubs
from services.ledger import RAKE, house_account, rakeback_account
from services.rakeback import Rakeback
from services.wallet import Wallet
from tests.clubs.club_play import PlayedHand, play_hand
from tests.clubs.conftest import player
from tests.persistence.stores import ManualClock

STAFF = AuditStamp("staff", "admin", "rakeback.distribute", "rakeback", "weekly run", "r-1")
DEAL_BP = 5_000
AGENT_BP = 3_000
TIERS = TierTable((Tier("Base", 0, 1_000), Tier("Regular", 150, 2_500)))


async def _funded(store: Store, wallet: Wallet, name: str) -> int:
    pid = await player(store, name)
    deposit = await wallet.request_deposit(f"fund-{name}", pid, 100_000)
    await wallet.post(deposit.id)
    return pid


async def test_every_chip_of_rakeback_and_commission_matches_a_hand_by_hand_recompute(
    store: Store, clubs: Clubs, wallet: Wallet, rakeback: Rakeback, clock: ManualClock
) -> None:
    names = ["olga", "ada", "bea", "cid", "dan", "eve", "fay"]
    olga, ada, bea, cid, dan, eve, fay = [await _funded(store, wallet, n) for n in names]
    info = await clubs.create(olga, "Night Owls", "", "invitation")
    club = info.club_id
    await clubs.invite(olga, club, ada)
    await clubs.accept_invitation(ada, club)
    await clubs.set_deal(club, DEAL_BP, STAFF)
    await clubs.set_role(olga, club, ada, "agent", commission_bp=AGENT_BP)
    for p in (bea, cid, dan):  # the agent brings three players
        await clubs.invite(ada, club, p)
        await clubs.accept_invitation(p, club)
    await clubs.invite(olga, club, eve)  # and the owner one
    await clubs.accept_invitation(eve, club)
    await clubs.set_tiers(olga, club, TIERS)
    club_table = f"club{club}-t1"  # of the club's own namespace, as an owner may register
    await clubs.register_table(olga, club, club_table)

    period = period_containing("day", clock.now_ms)
    rng = random.Random(20)
    played: list[PlayedHand] = []
    at = period.start_ms + 1_000
    members = [ada, bea, cid, dan, eve, olga]
    for i in range(60):
        seated = rng.sample(members, rng.randint(2, 6))
        at += 60_000
        played.append(await play_hand(store, wallet, rng, club_table, f"c{i}", seated, at))
    for i in range(15):  # a public table: the house's program, not the club's
        seated = rng.sample([bea, fay, eve], 3)
        at += 60_000
        played.append(await play_hand(store, wallet, rng, "pub-1", f"p{i}", seated, at))
    assert sum(h.rake for h in played if h.table_id == club_table) > 0

    clock.now_ms = period.end_ms + rakeback.policy.settle_delay_ms
    before = {p: (await wallet.balance(p)).balance for p in (olga, ada, bea, cid, dan, eve, fay)}
    rake_before = (await store.ledger_account(house_account(RAKE))).balance  # type: ignore[union-attr]
    club_run = await rakeback.distribute(f"club:{club}", period, STAFF)
    house_run = await rakeback.distribute("house", period, STAFF)
    assert (club_run.state, house_run.state) == ("closed", "closed")

    # The recompute, hand by hand, from the hands as played (not from rakeback/).
    club_rake: dict[int, int] = {}
    house_rake: dict[int, int] = {}
    for hand in played:
        target = club_rake if hand.table_id == club_table else house_rake
        assert sum(hand.shares) == hand.rake
        for p, share in zip(hand.players, hand.shares, strict=True):
            target[p] = target.get(p, 0) + share

    def club_rate(rake: int) -> int:  # first period: status 0; the period's own points count
        return 2_500 if rake >= 150 else 1_000

    expected_rb = {p: r * club_rate(r) // 10_000 for p, r in club_rake.items()}
    brought = [bea, cid, dan]
    cut = sum(club_rake.get(p, 0) for p in brought) * AGENT_BP // 10_000
    expected_commission = max(0, cut - sum(expected_rb.get(p, 0) for p in brought))
    # The case is not degenerate: a commission, both club tiers and house rakeback are paid.
    assert expected_commission > 0
    assert {club_rate(r) for r in club_rake.values()} == {1_000, 2_500}
    house_bp = rakeback.policy.house_tiers.tiers  # the house's default table

    def house_rate(rake: int) -> int:
        return max(t.rakeback_bp for t in house_bp if rake >= t.threshold_points)

    expected_house = {p: r * house_rate(r) // 10_000 for p, r in house_rake.items()}

    for p in (olga, ada, bea, cid, dan, eve, fay):
        got = (await wallet.balance(p)).balance - before[p]
        want = expected_rb.get(p, 0) + expected_house.get(p, 0)
        want += expected_commission if p == ada else 0
        assert got == want, (p, got, want)
    assert club_run.rakeback_paid == sum(expected_rb.values())
    assert club_run.commission_paid == expected_commission
    assert house_run.rakeback_paid == sum(expected_house.values())

    total_club_rake = sum(club_rake.values())
    share = total_club_rake * DEAL_BP // 10_000
    club_fund = await store.ledger_account(rakeback_account(f"club:{club}"))
    assert club_fund is not None
    assert club_fund.balance == share - sum(expected_rb.values()) - expected_commission
    rake_after = (await store.ledger_account(house_account(RAKE))).balance  # type: ignore[union-attr]
    assert rake_before - rake_after == share + sum(expected_house.values())

    for scope in (f"club:{club}", "house"):
        check = await rakeback.verify(scope, period)
        assert check.ok, check.problems
    # Statements: the agent sees her commission, a member her rakeback, by period and source.
    lines = await rakeback.statement(ada)
    assert {(ln.kind, ln.scope) for ln in lines} >= {("commission", f"club:{club}")}
    (commission,) = [ln for ln in lines if ln.kind == "commission"]
    assert commission.paid == expected_commission
    stats = await clubs.stats(olga, club, period)
    assert stats.rakeback_paid == sum(expected_rb.values())
    assert stats.commission_paid == expected_commission
    assert stats.rake == total_club_rake
