"""A player whose connection drops mid-hand keeps the seat; the client resumes by itself and
gets the table again (own cards only) and the pending prompt, and the hand finishes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import trio
import trio.testing

from protocol import game
from protocol.client import ServerError
from tests.e2e.clock import autojump_between_threads
from tests.e2e.harness import Frames, running_server, table_config, wait_for


async def test_player_disconnects_mid_hand_and_resumes(tmp_path: Path) -> None:
    async with running_server(tmp_path) as server:
        await server.open_table(table_config("resume"))
        frames = server.recorder.stream()
        alice = await server.player("alice", 1)
        bob = await server.player("bob", 2, acting=False)  # this test acts for bob
        await alice.join("resume", 200)
        seat = (await bob.join("resume", 200)).seat

        def bobs_turn(p: int, b: game.GamePush) -> bool:
            return p == bob.player_id and isinstance(b, game.ActionRequired) and b.seat == seat

        _, first = await wait_for(frames, bobs_turn)
        assert isinstance(first, game.ActionRequired)
        (dealt,) = [
            h for h in server.recorder.of(bob.player_id, game.HoleCards)
            if h.hand_number == first.hand_number
        ]  # fmt: skip
        await bob.client.simulate_network_drop()
        await wait_for(
            frames,
            lambda p, b: (
                p == alice.player_id
                and isinstance(b, game.SeatChanged)
                and b.view is not None
                and b.view.player_id == bob.player_id
                and not b.view.connected
            ),
        )
        # Back (the client reconnects and resumes on its own): the table as bob may see it,
        # with his own cards, then his turn again.
        _, snapshot = await wait_for(
            frames, lambda p, b: p == bob.player_id and isinstance(b, game.TableSnapshot)
        )
        assert isinstance(snapshot, game.TableSnapshot)
        assert snapshot.hand_number == first.hand_number and snapshot.to_act == seat
        assert snapshot.hole_cards == dealt.cards
        _, again = await wait_for(frames, bobs_turn)
        assert isinstance(again, game.ActionRequired)
        assert again.hand_number == first.hand_number
        assert bob.client.reconnects == 1
        bob.acting = True
        await bob.answer(again)
        await wait_for(
            frames,
            lambda p, b: (
                p == bob.player_id
                and isinstance(b, game.HandEnded)
                and b.hand_number == first.hand_number
            ),
        )
        assert not bob.refused, bob.refused
        await server.audit("resume")
        assert server.recorder.assert_no_hole_card_leaks() > 0


async def test_a_prompt_asked_again_after_a_resume_is_answered_once_with_the_time_left(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The prompt sent while a player was away is in the replay, then the table asks again
    after the snapshot: the same decision id, the time actually left and the same deadline.
    A client that answers both gets the second refused (``stale_decision``): it never lands
    on the player's next decision."""
    autojump_between_threads(autojump_clock, monkeypatch)
    async with running_server(tmp_path) as server:
        await server.open_table(table_config("again", action_timeout_ms=15_000))
        frames = server.recorder.stream()
        one = await server.player("one", 1, acting=False)
        two = await server.player("two", 2, acting=False)
        await one.join("again", 200)
        await two.join("again", 200)
        _, started = await wait_for(
            frames, lambda p, b: p == one.player_id and isinstance(b, game.HandStarted)
        )
        assert isinstance(started, game.HandStarted)
        # Heads-up: the button (small blind) acts first before the flop, the big blind after
        # it and first on the flop. The big blind goes away before being asked.
        by_seat = {p.seats["again"]: p for p in (one, two)}
        early, late = by_seat[started.button], by_seat[started.big_blind_seat]
        late_seat = late.seats["again"]
        _, opening = await wait_for(
            frames,
            lambda p, b: p == early.player_id and isinstance(b, game.ActionRequired),
        )
        assert isinstance(opening, game.ActionRequired) and opening.seat != late_seat
        back = trio.Event()
        resume = late.client._resume

        async def held_resume() -> None:
            await back.wait()
            await resume()

        monkeypatch.setattr(late.client, "_resume", held_resume)
        await late.client.simulate_network_drop()
        await wait_for(
            frames,
            lambda p, b: (
                p == early.player_id
                and isinstance(b, game.SeatChanged)
                and b.seat == late_seat
                and b.view is not None
                and not b.view.connected
            ),
        )
        await early.client.act(opening, "check_or_call")
        # Asked while away (the others see it; his session keeps it for the replay): his time
        # bank runs at once.
        _, asked = await wait_for(
            frames,
            lambda p, b: (
                p == early.player_id and isinstance(b, game.ActionRequired) and b.seat == late_seat
            ),
        )
        assert isinstance(asked, game.ActionRequired) and asked.act_within_ms == 0
        await trio.sleep(5)  # five seconds of his time bank go by
        back.set()
        replayed = await _next_prompt(frames, late.player_id, late_seat)
        _, snapshot = await wait_for(
            frames, lambda p, b: p == late.player_id and isinstance(b, game.TableSnapshot)
        )
        assert isinstance(snapshot, game.TableSnapshot) and snapshot.to_act == late_seat
        sent_again_after_ms = time.time() * 1000
        again = await _next_prompt(frames, late.player_id, late_seat)
        received_ms = time.time() * 1000
        assert replayed == asked  # the same frame, as it was sent
        assert again.decision_id == asked.decision_id and again.hand_number == asked.hand_number
        assert again.time_bank_ms == pytest.approx(asked.time_bank_ms - 5_000, abs=100)
        left_ms = again.act_within_ms + again.time_bank_ms
        assert sent_again_after_ms - 100 <= again.deadline_ms - left_ms <= received_ms + 100

        await late.client.act(replayed, "check_or_call")  # the big blind checks: the flop
        flop = await _next_prompt(frames, late.player_id, late_seat)  # first to act on the flop
        assert flop.decision_id != again.decision_id
        with pytest.raises(ServerError) as refused:
            await late.client.act(again, "check_or_call")  # the same question, answered twice
        assert refused.value.code == "stale_decision"
        await late.client.act(flop, "check_or_call")  # still his to answer: nothing applied
        taken = [
            b for b in server.recorder.of(early.player_id, game.ActionTaken)
            if b.seat == late_seat and b.hand_number == asked.hand_number
        ]  # fmt: skip
        assert len(taken) == 2 and not any(b.timed_out for b in taken)
        await server.audit("again")


async def _next_prompt(frames: Frames, player_id: int, seat: int) -> game.ActionRequired:
    """The next prompt ``player_id`` received for ``seat``."""
    _, body = await wait_for(
        frames,
        lambda p, b: p == player_id and isinstance(b, game.ActionRequired) and b.seat == seat,
    )
    assert isinstance(body, game.ActionRequired)
    return body
