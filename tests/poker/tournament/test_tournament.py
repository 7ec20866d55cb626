"""The tournament state machine: registration, late registration and re-entry, rebuys and
the add-on, eliminations and places, hand-for-hand, bounties, deals, snapshots. Hands are
scripted: a test says who ends a hand with how many chips."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

import pytest

from poker.events import PotShare
from poker.showdown import Award, HandResult, PotResult
from poker.tournament import (
    AddOnRefused,
    AddOnRule,
    BountyKind,
    Break,
    DealHand,
    DealKind,
    DealRefused,
    EntryStatus,
    LevelUnit,
    PayoutConfig,
    PayoutKind,
    Phase,
    RebuyRefused,
    RebuyRule,
    RegistrationRefused,
    Structure,
    StructureInvalid,
    Tournament,
    TournamentConfig,
    Wait,
    WaitReason,
    levels_from_big_blinds,
)
from poker.tournament import effects as fx
from poker.tournament.structure import MINUTE_MS

STACK = 1_000
LEVELS = levels_from_big_blinds((20, 40, 80, 160, 320, 640), 10)
EIGHT_PAID = PayoutConfig(
    kind=PayoutKind.FIXED, shares_bp=(3000, 2000, 1500, 1000, 900, 700, 500, 400)
)


def structure(**overrides: object) -> Structure:
    fields: dict[str, object] = {"name": "test", "levels": LEVELS, "starting_stack": STACK}
    fields.update(overrides)
    return Structure(**fields)  # type: ignore[arg-type]


def started(entrants: int, rng: random.Random, **config: object) -> Tournament:
    fields: dict[str, object] = {"structure": structure(), "buy_in": 100, "seats_per_table": 6}
    fields.update(config)
    t = Tournament(TournamentConfig(**fields))  # type: ignore[arg-type]
    for n in range(entrants):
        t.register(f"p{n}")
    t.start(0, rng)
    return t


def deal(t: Tournament, table_id: int) -> DealHand:
    answer = t.next_hand(table_id)
    assert isinstance(answer, DealHand), answer
    return answer


def end(
    t: Tournament, hand: DealHand, final: Mapping[int, int], rng: random.Random
) -> list[fx.AnyEffect]:
    """End ``hand`` with these stacks by entry (others unchanged): one pot, everyone in it,
    won by the entries that gained, by what they gained."""
    stacks = {e: s.stack for e, s in zip(hand.entries, hand.seats, strict=True)}
    stacks.update(final)
    seat_of = {e: s.seat for e, s in zip(hand.entries, hand.seats, strict=True)}
    gains = {e: stacks[e] - s.stack for e, s in zip(hand.entries, hand.seats, strict=True)}
    moved = sum(g for g in gains.values() if g > 0)
    awards = tuple(Award(0, PotShare.WHOLE, seat_of[e], g) for e, g in gains.items() if g > 0)
    pots = (
        PotResult(amount=moved, rake=0, eligible=tuple(sorted(seat_of.values())), awards=awards),
    )
    result = HandResult(
        seats=tuple(s.seat for s in hand.seats),
        starting_stacks=tuple(s.stack for s in hand.seats),
        stacks=tuple(stacks[e] for e in hand.entries),
        pots=pots if moved else (),
        rake=0,
        board=(),
        second_board=(),
    )
    effects = t.hand_ended(hand.table, result, rng)
    t.check_invariants()
    return effects


def bust(
    t: Tournament, table_id: int, losers: Sequence[int] | None, rng: random.Random
) -> list[fx.AnyEffect]:
    """Deal a hand at the table; ``losers`` (entries dealt in; None: the last one dealt in)
    lose everything to the first other player dealt in."""
    hand = deal(t, table_id)
    if losers is None:
        losers = [hand.entries[-1]]
    assert set(losers) <= set(hand.entries)
    winner = next(e for e in hand.entries if e not in losers)
    final = {e: 0 for e in losers}
    final[winner] = t.entry(winner).stack + sum(t.entry(e).stack for e in losers)
    return end(t, hand, final, rng)


def dealable(t: Tournament) -> list[int]:
    return [
        tid
        for tid, table in sorted(t.floor.tables.items())
        if t.wait_reason(tid) is None and not table.in_hand
    ]


def bust_down_to(t: Tournament, remaining: int, rng: random.Random) -> None:
    while t.remaining > remaining:
        bust(t, dealable(t)[0], None, rng)


def of(kind: type[fx.Effect], effects: Sequence[fx.AnyEffect]) -> list[fx.AnyEffect]:
    return [e for e in effects if isinstance(e, kind)]


# ---------------------------------------------------------------------- registration


def test_registration_buys_an_entry_with_a_ledger_operation_name() -> None:
    t = Tournament(TournamentConfig(structure=structure(), buy_in=100, fee=10, bounty=0))
    (bought,) = t.register("alice")
    assert bought == fx.EntryBought(
        entry=1, player_id="alice", prize_part=100, bounty_part=0, fee=10, op="entry:1"
    )
    with pytest.raises(RegistrationRefused, match="already registered"):
        t.register("alice")
    (refund,) = t.unregister(1)
    assert isinstance(refund, fx.EntryRefunded) and refund.amount == 110


def test_start_needs_two_entries() -> None:
    t = Tournament(TournamentConfig(structure=structure()))
    t.register("alone")
    with pytest.raises(RegistrationRefused, match="at least two"):
        t.start(0, random.Random(1))


def test_start_seats_everyone_evenly_and_opens_the_level() -> None:
    rng = random.Random(2)
    t = Tournament(TournamentConfig(structure=structure(), seats_per_table=6))
    for n in range(14):
        t.register(f"p{n}")
    effects = t.start(0, rng)
    assert sorted(t.table(tid).count for tid in t.floor.tables) == [4, 5, 5]
    assert len(of(fx.Seated, effects)) == 14
    assert of(fx.LevelStarted, effects)[0] == fx.LevelStarted(
        level=1, small_blind=10, big_blind=20, ante=0, ante_mode=LEVELS[0].ante_mode
    )
    assert of(fx.RegistrationClosed, effects)  # no late registration in this structure
    assert of(fx.PrizesSet, effects)


def test_heads_up_tables_only_for_one_table_events() -> None:
    with pytest.raises(StructureInvalid, match="heads-up"):
        TournamentConfig(structure=structure(), seats_per_table=2)


def test_reentry_only_when_out_at_most_n_entries_while_registration_is_open_wsop_13() -> None:
    rng = random.Random(3)
    late = structure(late_registration_levels=2, entries_per_player_max=2)
    t = started(12, rng, structure=late)
    with pytest.raises(RegistrationRefused, match="no chips left"):
        t.register("p0", rng)
    first = t.entries_of("p0")[0]
    bust(t, first.table, [first.entry], rng)
    effects = t.register("p0", rng)
    (seated,) = of(fx.Seated, effects)
    assert seated.entry == 13 and seated.stack == STACK  # a new entry, a full stack (TDA 8A)
    # Seated at a table with the fewest players.
    assert t.table(seated.table).count <= min(t.table(tid).count for tid in t.floor.tables) + 1
    assert t.entry(13).number == 2
    second = t.entry(13)
    bust(t, second.table, [13], rng)
    with pytest.raises(RegistrationRefused, match="at most 2 entries"):
        t.register("p0", rng)
    t.clock(20 * MINUTE_MS)
    with pytest.raises(RegistrationRefused, match="closed"):
        t.register("newcomer", rng)


def test_late_registrant_opens_a_table_when_all_are_full_and_it_breaks_first_wsop_35() -> None:
    rng = random.Random(4)
    t = started(12, rng, structure=structure(late_registration_levels=1))
    effects = t.register("late", rng)
    (opened,) = of(fx.TableOpened, effects)
    assert t.floor.break_order[0] == opened.table


# ---------------------------------------------------------------------- places


def test_players_out_in_one_hand_finish_by_their_starting_stacks() -> None:
    rng = random.Random(5)
    t = started(4, rng, payout=EIGHT_PAID)
    table_id = next(iter(t.floor.tables))
    hand = deal(t, table_id)
    a, b, c, d = hand.entries
    end(t, hand, {a: STACK - 100, b: STACK + 100}, rng)  # a is now the shorter stack
    hand = deal(t, table_id)
    effects = end(t, hand, {a: 0, c: 0, d: 3 * STACK - 100}, rng)
    places = {p.entry: p.place for p in of(fx.PlaceAwarded, effects)}
    assert places[c] == 3 and places[a] == 4


def test_final_table_forms_when_the_players_fit_in_one_table() -> None:
    rng = random.Random(6)
    t = started(18, rng)
    assert len(t.floor.tables) == 3
    seen: list[fx.AnyEffect] = []
    while t.remaining > 6:
        table_id = dealable(t)[0]
        seen += bust(t, table_id, None, rng)
    (final,) = of(fx.FinalTable, seen)
    assert final.players == 6 and len(t.floor.tables) == 1


def test_hand_for_hand_busts_across_tables_share_the_places_tda_rp_8() -> None:
    rng = random.Random(7)
    # 8 paid; hand-for-hand from 10 left ("52 left, 50 paid" in TDA RP-8A's example).
    t = started(18, rng, payout=EIGHT_PAID, hand_for_hand_from_bubble=2)
    bust_down_to(t, 11, rng)
    assert not t.state.h4h
    table_id = dealable(t)[0]
    effects = bust(t, table_id, None, rng)
    assert of(fx.HandForHandStarted, effects) and t.state.h4h
    a, b = sorted(t.floor.tables)
    assert t.wait_reason(a) is None and t.wait_reason(b) is None
    hand_a, hand_b = deal(t, a), deal(t, b)
    loser_a = hand_a.entries[0]
    losers_b = list(hand_b.entries[:2])
    winner_a = hand_a.entries[1]
    winner_b = hand_b.entries[2]
    after_a = end(
        t, hand_a, {loser_a: 0, winner_a: t.entry(winner_a).stack + t.entry(loser_a).stack}, rng
    )
    assert not of(fx.PlaceAwarded, after_a)  # the round is still being played
    assert t.next_hand(a) == Wait(WaitReason.HAND_FOR_HAND)
    gained = sum(t.entry(e).stack for e in losers_b)
    after_b = end(
        t, hand_b, {**dict.fromkeys(losers_b, 0), winner_b: t.entry(winner_b).stack + gained}, rng
    )
    placed = of(fx.PlaceAwarded, after_b)
    assert {(p.place, p.tied) for p in placed} == {(8, 3)}  # all three share 8th
    assert sum(p.prize for p in placed) == t.state.prizes[7]
    assert of(fx.HandForHandEnded, after_b) and not t.state.h4h


def test_hand_for_hand_round_ends_when_every_table_has_played_its_hand() -> None:
    rng = random.Random(8)
    t = started(18, rng, payout=EIGHT_PAID)
    bust_down_to(t, 10, rng)
    table_id = dealable(t)[0]
    effects = bust(t, table_id, None, rng)
    assert of(fx.HandForHandStarted, effects)  # 9 left, 8 paid: the bubble
    tables = sorted(t.floor.tables)
    hands = [deal(t, tid) for tid in tables]
    first = end(t, hands[0], {}, rng)
    assert not of(fx.TablesMayDeal, first)
    assert t.next_hand(tables[0]) == Wait(WaitReason.HAND_FOR_HAND)
    last = end(t, hands[1], {}, rng)
    (resume,) = of(fx.TablesMayDeal, last)
    assert resume.tables == (tables[0],)  # the next round: the waiting table goes on
    assert t.wait_reason(tables[1]) is None


# ---------------------------------------------------------------------- bounties


def test_progressive_knockout_pays_half_and_the_winner_collects_their_own_head() -> None:
    rng = random.Random(9)
    t = started(3, rng, bounty=100, bounty_kind=BountyKind.PROGRESSIVE, payout=EIGHT_PAID)
    table_id = next(iter(t.floor.tables))
    hand = deal(t, table_id)
    a, b, c = hand.entries
    effects = end(t, hand, {a: 0, b: 2 * STACK}, rng)
    (won,) = of(fx.BountyWon, effects)
    assert (won.entry, won.knocked_out, won.cash, won.head) == (b, a, 50, 50)
    assert t.entry(b).head == 150
    hand = deal(t, table_id)
    effects = end(t, hand, {c: 0, b: 3 * STACK}, rng)
    bounties = of(fx.BountyWon, effects)
    assert [(w.knocked_out, w.cash, w.head) for w in bounties] == [(c, 50, 50), (b, 200, 0)]
    assert sum(w.cash for w in of(fx.BountyWon, effects)) + 50 == 300  # every bounty paid
    assert t.phase is Phase.FINISHED


def test_regular_bounty_split_when_two_players_win_the_pot() -> None:
    rng = random.Random(10)
    t = started(3, rng, bounty=100, bounty_kind=BountyKind.REGULAR, payout=EIGHT_PAID)
    table_id = next(iter(t.floor.tables))
    hand = deal(t, table_id)
    a, b, c = hand.entries
    effects = end(t, hand, {a: 0, b: STACK + 500, c: STACK + 500}, rng)
    assert sorted((w.entry, w.cash) for w in of(fx.BountyWon, effects)) == sorted(
        [(b, 50), (c, 50)]
    )


# ---------------------------------------------------------------------- rebuys, add-on


REBUYS = structure(
    breaks=(Break(2, 5),),
    rebuy=RebuyRule(chips=STACK, price=100, stack_at_most=STACK, until_level=2, per_entry_max=2),
    addon=AddOnRule(chips=2 * STACK, price=100),
)


def test_a_bust_during_the_rebuy_period_is_offered_a_rebuy_between_hands_tda_27() -> None:
    rng = random.Random(11)
    t = started(6, rng, structure=REBUYS)
    table_id = next(iter(t.floor.tables))
    hand = deal(t, table_id)
    loser, winner = hand.entries[0], hand.entries[1]
    effects = end(t, hand, {loser: 0, winner: 2 * STACK}, rng)
    assert of(fx.RebuyOffered, effects) and not of(fx.Eliminated, effects)
    assert t.entry(loser).status is EntryStatus.AWAITING_REBUY
    assert loser not in deal(t, table_id).entries  # not dealt in while deciding
    with pytest.raises(RebuyRefused, match="between hands"):
        t.rebuy(hand.entries[2])  # at the threshold, but in a hand now (TDA 27)


def test_rebuy_adds_chips_and_money_and_decline_eliminates() -> None:
    rng = random.Random(12)
    t = started(6, rng, structure=REBUYS)
    table_id = next(iter(t.floor.tables))
    hand = deal(t, table_id)
    a, b, c = hand.entries[:3]
    end(t, hand, {a: 0, b: 0, c: 3 * STACK}, rng)
    (bought,) = of(fx.RebuyBought, t.rebuy(a))
    assert bought.op == f"rebuy:{a}:1" and t.entry(a).stack == STACK
    effects = t.decline_rebuy(b, rng)
    assert of(fx.Eliminated, effects) and t.entry(b).status is EntryStatus.OUT
    with pytest.raises(RebuyRefused, match="at or below"):
        t.rebuy(c)
    t.rebuy(a)
    with pytest.raises(RebuyRefused, match="at most 2"):
        t.rebuy(a)


def test_rebuys_close_after_their_last_level_and_pending_offers_lapse() -> None:
    rng = random.Random(13)
    t = started(6, rng, structure=REBUYS)
    table_id = next(iter(t.floor.tables))
    hand = deal(t, table_id)
    loser, winner = hand.entries[0], hand.entries[1]
    end(t, hand, {loser: 0, winner: 2 * STACK}, rng)
    effects = t.clock(20 * MINUTE_MS)
    assert of(fx.RebuysClosed, effects) and of(fx.Eliminated, effects)
    with pytest.raises(RebuyRefused, match="closed"):
        t.rebuy(winner)


def test_one_addon_per_entry_at_the_first_break_then_the_prizes_are_final() -> None:
    rng = random.Random(14)
    t = started(6, rng, structure=REBUYS)
    with pytest.raises(AddOnRefused, match="first break"):
        t.addon(1)
    assert of(fx.BreakStarted, t.clock(21 * MINUTE_MS))
    assert t.next_hand(next(iter(t.floor.tables))) == Wait(WaitReason.BREAK)
    (bought,) = t.addon(1)
    assert isinstance(bought, fx.AddOnBought) and t.entry(1).stack == 3 * STACK
    with pytest.raises(AddOnRefused, match="one add-on"):
        t.addon(1)
    effects = t.clock(26 * MINUTE_MS)
    (prizes,) = of(fx.PrizesSet, effects)
    assert prizes.collected == 6 * 100 + 100  # six entries and one add-on
    assert of(fx.TablesMayDeal, effects)


# ---------------------------------------------------------------------- money


def test_guarantee_overlay_is_added_by_the_house() -> None:
    rng = random.Random(15)
    t = started(10, rng, guarantee=5_000)
    assert t.state.prizes and sum(t.state.prizes) == 5_000
    t2 = Tournament(TournamentConfig(structure=structure(), buy_in=100, guarantee=5_000))
    for n in range(10):
        t2.register(f"p{n}")
    effects = t2.start(0, rng)
    assert of(fx.OverlayAdded, effects) == [fx.OverlayAdded(amount=4_000, op="overlay")]


# ---------------------------------------------------------------------- deals


def at_final_three(seed: int) -> tuple[Tournament, random.Random]:
    rng = random.Random(seed)
    t = started(6, rng, payout=PayoutConfig(kind=PayoutKind.FIXED, shares_bp=(5000, 3000, 2000)))
    bust_down_to(t, 3, rng)
    return t, rng


def test_a_deal_needs_every_remaining_player() -> None:
    t, _ = at_final_three(16)
    players = sorted(t.table(next(iter(t.floor.tables))).seats.values())
    with pytest.raises(DealRefused, match="every remaining player"):
        t.deal(DealKind.ICM, players[:2])


def test_an_icm_deal_pays_what_is_left_and_ends_the_event() -> None:
    t, _ = at_final_three(17)
    players = sorted(t.table(next(iter(t.floor.tables))).seats.values())
    effects = t.deal(DealKind.ICM, players)
    paid = of(fx.DealPaid, effects)
    assert sum(p.amount for p in paid) == 300 + 180 + 120
    assert of(fx.TournamentFinished, effects) and t.phase is Phase.FINISHED


def test_a_deal_can_leave_some_to_be_played_for() -> None:
    t, rng = at_final_three(18)
    players = sorted(t.table(next(iter(t.floor.tables))).seats.values())
    effects = t.deal(DealKind.CHIP_CHOP, players, keep=60)
    assert sum(p.amount for p in of(fx.DealPaid, effects)) == 600 - 60
    assert t.phase is Phase.RUNNING
    while t.phase is Phase.RUNNING:
        table_id = dealable(t)[0]
        last = bust(t, table_id, None, rng)
    (won,) = [p for p in of(fx.PlaceAwarded, last) if p.place == 1]
    assert won.prize == 60


def test_no_deal_before_the_final_table() -> None:
    rng = random.Random(19)
    t = started(18, rng)
    with pytest.raises(DealRefused, match="final table"):
        t.deal(DealKind.ICM, list(range(1, 19)))


# ---------------------------------------------------------------------- snapshots, errors


def test_a_snapshot_restores_the_same_tournament() -> None:
    rng = random.Random(20)
    t = started(18, rng, payout=EIGHT_PAID)
    bust_down_to(t, 12, rng)
    data = t.snapshot()
    restored = Tournament.restore(data)
    assert restored.snapshot() == data
    assert restored.floor.spread() == t.floor.spread()
    # Both go on identically with the same RNG.
    rng_a, rng_b = random.Random(1), random.Random(1)
    bust_down_to(t, 9, rng_a)
    bust_down_to(restored, 9, rng_b)
    assert restored.snapshot() == t.snapshot()


def test_a_table_not_in_a_hand_cannot_end_one() -> None:
    rng = random.Random(21)
    t = started(6, rng)
    table_id = next(iter(t.floor.tables))
    result = HandResult(
        seats=(0, 1),
        starting_stacks=(1, 1),
        stacks=(1, 1),
        pots=(),
        rake=0,
        board=(),
        second_board=(),
    )
    with pytest.raises(Exception, match="no hand in progress"):
        t.hand_ended(table_id, result, rng)


def test_hands_counted_levels_rise_per_table() -> None:
    rng = random.Random(22)
    hands = structure(unit=LevelUnit.HANDS, levels=levels_from_big_blinds((20, 40, 80), 2))
    t = started(6, rng, structure=hands)
    table_id = next(iter(t.floor.tables))
    levels = []
    for _ in range(5):
        hand = deal(t, table_id)
        levels.append(hand.level)
        end(t, hand, {}, rng)
    assert levels == [1, 1, 2, 2, 3]


def test_a_new_level_applies_from_the_next_hand_tda_23() -> None:
    rng = random.Random(23)
    t = started(6, rng)
    table_id = next(iter(t.floor.tables))
    hand = deal(t, table_id)
    assert hand.level == 1
    effects = t.clock(10 * MINUTE_MS)  # level 2 starts while the hand is played
    assert of(fx.LevelStarted, effects)[0].big_blind == 40
    assert hand.config.big_blind == 20  # the hand in progress keeps its level
    end(t, hand, {}, rng)
    following = deal(t, table_id)
    assert following.level == 2 and following.config.big_blind == 40


def test_the_reading_tells_the_timer_when_to_call_the_clock_again() -> None:
    rng = random.Random(24)
    t = started(6, rng)
    reading = t.reading(4 * MINUTE_MS)
    assert reading.level == 0 and reading.remaining_ms == 6 * MINUTE_MS
    assert t.reading(reading.remaining_ms + 4 * MINUTE_MS).level == 1
