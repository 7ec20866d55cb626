"""The tournament's play clock (actors/tournament_views.py ``play_ms``) reads whole
milliseconds rounded, not truncated: a level with 1 ms left is over after its 1 ms timer.

Truncated, ``int((t + 0.001 - t) * 1000)`` is 0 for most ``t`` (floating point): every step
stores the clock, so a level could be left with 1 ms, and its 1 ms timer then read no time
passed, again and again at one instant (the 18-player MTT over the wire never ended)."""

from __future__ import annotations

import trio
import trio.testing

from actors.tournament import LIVE_VERSION, LiveState, TournamentActor
from actors.tournament_messages import TournamentSpec


async def test_a_one_millisecond_timer_reads_one_millisecond_of_play(
    autojump_clock: trio.testing.MockClock,
) -> None:
    actor = object.__new__(TournamentActor)
    spec = TournamentSpec(name="Clock", preset="hyper")
    actor.live = LiveState(version=LIVE_VERSION, tournament_id=1, spec=spec)
    actor.live.state = "running"
    for start in (260.0001, 333.3333333, 1_000.0007, 59_999.999):
        autojump_clock.jump(start - trio.current_time())
        actor.live.elapsed_ms = 59_999  # 1 ms left of a one-minute level
        actor.clock_since = trio.current_time()
        await trio.sleep(0.001)  # the clock's timer for that 1 ms
        assert actor.play_ms() == 60_000, start
