"""What a table keeps of a player's profile and preferences (docs/players.md, issue 19): her
display name in every seat view and snapshot, taken once when she sits down; auto-muck (a
hand that cannot win is mucked for her at the showdown, never shown); auto-post blinds off
(she posts a blind only when she agreed to it by sitting down or in; else she is sat out)."""

from __future__ import annotations

import random
from pathlib import Path

from actors.hand import cannot_win
from actors.table.admin import PauseTable, ResumeTable
from actors.table.messages import (
    AddWatcher,
    GetSeats,
    JoinSeat,
    PlayerAct,
    SeatProfile,
    SitIn,
    TableSeats,
    UpdateSeatProfile,
)
from poker import (
    ALL_CARDS,
    BlindSeats,
    CheckOrCall,
    Deck,
    Hand,
    HandConfig,
    SeatSetup,
    Show,
    Variant,
)
from protocol import game
from tests.actors.test_table_fakes import Bots, Game, drive, nlhe, running_game, sqlite_url

WATCHER = 999


async def test_seat_views_and_snapshots_carry_the_name_she_sat_down_with(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=61) as session:
        table = await session.open_table(nlhe("names", between_hands_ms=60_000))
        await session.fund([1, 2])
        await table.ask(AddWatcher(player_id=WATCHER))
        await table.ask(JoinSeat(player_id=1, buy_in=100, profile=SeatProfile("Alice")))
        await table.ask(JoinSeat(player_id=2, buy_in=100))  # no profile: no name
        changed = session.channel.of(WATCHER, game.SeatChanged)
        names = {c.view.player_id: c.view.display_name for c in changed if c.view is not None}
        assert names == {1: "Alice", 2: None}
        await table.ask(AddWatcher(player_id=WATCHER))
        snapshot = session.channel.of(WATCHER, game.TableSnapshot)[-1]
        assert {v.player_id: v.display_name for v in snapshot.seats} == {1: "Alice", 2: None}


def _hand_at_showdown(variant: Variant, holes: dict[int, str], board: str) -> Hand:
    """A hand of three seats (0 the button) dealt ``holes`` and ``board``, checked down to
    the showdown."""
    seats = sorted(holes)
    order = Hand.dealing_order(seats, 0)
    each = variant.hole_cards
    by_code = {card.code: card for card in ALL_CARDS}
    split = {s: [holes[s][i : i + 2] for i in range(0, 2 * each, 2)] for s in seats}
    deal = [split[order[p]][k] for k in range(each) for p in range(len(order))]
    b = [board[i : i + 2] for i in range(0, 10, 2)]
    used = {*deal, *b}
    burn = [c.code for c in ALL_CARDS if c.code not in used][:3]
    cards = [*deal, burn[0], *b[:3], burn[1], b[3], burn[2], b[4]]
    rest = [c for c in ALL_CARDS if c.code not in cards]
    deck = Deck([by_code[c] for c in cards] + rest)
    config = HandConfig(variant=variant, small_blind=1, big_blind=2)
    setups = tuple(SeatSetup(seat=s, player_id=str(s), stack=100) for s in seats)
    hand = Hand(config, setups, 0, deck, BlindSeats(small=order[0], big=order[1]))
    hand.start()
    while hand.legal_actions().check or hand.legal_actions().call is not None:
        hand.apply(CheckOrCall(seat=hand.legal_actions().seat))
    return hand


def test_a_hand_beaten_by_a_shown_hand_cannot_win_and_a_tie_can() -> None:
    hand = _hand_at_showdown(
        Variant.NO_LIMIT_HOLDEM, {0: "AhAd", 1: "7c8d", 2: "KcKd"}, "As9h4c3d2s"
    )
    first = hand.legal_actions().seat
    assert not cannot_win(hand, first, [])  # nobody shown yet: may win
    hand.apply(Show(seat=first))
    shown = [first]
    nxt = hand.legal_actions().seat
    mine = {0: 3, 1: 0, 2: 2}  # strength rank: AAA > KK > 98 high
    assert cannot_win(hand, nxt, shown) == (mine[first] > mine[nxt])
    tie = _hand_at_showdown(
        Variant.NO_LIMIT_HOLDEM, {0: "7h8h", 1: "7c8d", 2: "2h3h"}, "AsKhQcJdTs"
    )
    first = tie.legal_actions().seat
    tie.apply(Show(seat=first))
    assert not cannot_win(tie, tie.legal_actions().seat, [first])  # the board plays: a split


def test_nothing_is_mucked_for_anyone_in_hi_lo() -> None:
    holes = {0: "AhAdKhKd", 1: "7c8d9c2s", 2: "QcQdJcJd"}
    hand = _hand_at_showdown(Variant.POT_LIMIT_OMAHA_HI_LO, holes, "As9h4c3d6s")
    first = hand.legal_actions().seat
    hand.apply(Show(seat=first))
    assert not cannot_win(hand, hand.legal_actions().seat, [first])


async def play_to_showdowns(session: Game, table_id: str, profile: SeatProfile, hands: int) -> None:
    table = await session.open_table(nlhe(table_id, between_hands_ms=10))
    players = [1, 2, 3, 4]
    await session.fund(players)
    stream = session.channel.stream()
    await table.ask(PauseTable())
    seats = {}
    for player in players:
        granted = await table.ask(JoinSeat(player_id=player, buy_in=200, profile=profile))
        seats[granted.seat] = player
    await table.ask(ResumeTable())
    ended = 0

    async def calls_down(player_id: int, body: game.GamePush) -> bool:
        nonlocal ended
        if isinstance(body, game.HandEnded) and player_id == 1:
            ended += 1
            return ended >= hands
        if isinstance(body, game.ActionRequired) and seats.get(body.seat) == player_id:
            action = "show" if body.legal.show else "check_or_call"
            act = PlayerAct(player_id, body.hand_number, action, decision_id=body.decision_id)
            await table.ask(act)
        return False

    await drive(session, None, stream, calls_down)


async def test_auto_muck_mucks_the_beaten_and_never_asks_them(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=62) as session:
        await play_to_showdowns(session, "muck", SeatProfile(auto_muck=True), hands=12)
        bodies = [body for _, body in session.channel.bodies[1]]
        mucked = [b for b in bodies if isinstance(b, game.Showdown) and b.mucked]
        assert mucked, "calling down four-handed, someone's hand was beaten"
        prompts = {
            (b.hand_number, b.seat)
            for b in bodies
            if isinstance(b, game.ActionRequired) and b.legal.muck
        }
        # A mucked seat was never asked: the table mucked it at once.
        assert not {(m.hand_number, m.seat) for m in mucked} & prompts


async def test_without_auto_muck_everyone_is_asked_and_shows(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=62) as session:
        await play_to_showdowns(session, "show", SeatProfile(auto_muck=False), hands=12)
        bodies = [body for _, body in session.channel.bodies[1]]
        assert not [b for b in bodies if isinstance(b, game.Showdown) and b.mucked]


async def test_auto_post_off_sits_her_out_when_a_blind_she_did_not_agree_to_is_due(
    tmp_path: Path,
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=63) as session:
        table = await session.open_table(nlhe("post", between_hands_ms=10))
        await session.fund([1, 2, 3])
        stream = session.channel.stream()
        await table.ask(PauseTable())
        cautious = SeatProfile(auto_post_blinds=False)
        seats = {}
        for player in (1, 2, 3):
            profile = cautious if player == 1 else SeatProfile()
            granted = await table.ask(JoinSeat(player_id=player, buy_in=200, profile=profile))
            seats[granted.seat] = player
        await table.ask(ResumeTable())
        bots = Bots(table, "post", seats, random.Random(63))
        seat_of_1 = next(s for s, p in seats.items() if p == 1)
        posted: list[int] = []  # hands in which she posted a blind

        def until_sat_out(player_id: int, body: game.GamePush) -> bool:
            if player_id != 1:
                return False
            if isinstance(body, game.BlindPosted) and body.seat == seat_of_1:
                posted.append(body.hand_number)
            return (
                isinstance(body, game.SeatChanged)
                and body.seat == seat_of_1
                and body.view is not None
                and body.view.state == "sitting_out"
            )

        await drive(session, bots, stream, until_sat_out)
        # She agreed to one blind by sitting down: she posted exactly one, then was sat out.
        assert len(posted) == 1
        view = await table.ask(GetSeats())
        assert isinstance(view, TableSeats)
        mine = next(s for s in view.seats if s.player_id == 1)
        assert mine.sitting_out and (mine.owes_big_blind or mine.owes_small_blind)
        # Sitting in is her agreement to the next blind: she plays again.
        await table.ask(SitIn(player_id=1, post_now=True))

        def dealt_in(player_id: int, body: game.GamePush) -> bool:
            return isinstance(body, game.HandStarted) and seat_of_1 in body.seats

        await drive(session, bots, stream, dealt_in)


async def test_a_new_name_shows_at_once_and_a_stranger_changes_nothing(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=64) as session:
        table = await session.open_table(nlhe("rename", between_hands_ms=60_000))
        await session.fund([1])
        await table.ask(AddWatcher(player_id=WATCHER))
        await table.ask(JoinSeat(player_id=1, buy_in=100, profile=SeatProfile("Old")))
        before = len(session.channel.of(WATCHER, game.SeatChanged))
        await table.ask(UpdateSeatProfile(player_id=2, display_name="Nobody"))
        assert len(session.channel.of(WATCHER, game.SeatChanged)) == before
        await table.ask(UpdateSeatProfile(player_id=1, auto_post_blinds=False))
        assert len(session.channel.of(WATCHER, game.SeatChanged)) == before  # nothing shown
        await table.ask(UpdateSeatProfile(player_id=1, display_name="New"))
        (changed,) = session.channel.of(WATCHER, game.SeatChanged)[before:]
        assert changed.view is not None and changed.view.display_name == "New"
