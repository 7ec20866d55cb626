"""A counted hand that lifts a player's level reaches her session as a level_up push, and
her achievements as achievement_earned (server/app.py wires the store's hand hooks)."""

from __future__ import annotations

from pathlib import Path

from protocol.client import open_client
from protocol.messages import Event
from protocol.players import AchievementEarned, LevelUp
from server.app import _tell_players_of_hands
from server.gateway import PlayerChannel
from services.leaderboards import Leaderboards
from tests.players.hands import hand_record, simulated_hand
from tests.protocol.gateway_harness import PASSWORD, gateway_and_store


async def test_a_level_up_is_pushed_to_the_players_session(tmp_path: Path) -> None:
    channel = PlayerChannel()
    async with (
        gateway_and_store(tmp_path, channel=channel) as (gateway, store),
        open_client(gateway.url) as alice,
    ):
        _tell_players_of_hands(store, Leaderboards(store), channel)
        me = await alice.register("alice", PASSWORD)
        bob = await store.create_account("bob", "x", "player")
        assert me.player_id is not None
        # 10 XP a hand: the 50th hand reaches level 2 (500 XP).
        for n in range(50):
            hand = simulated_hand(n, [me.player_id, bob.id], hand_id=f"h{n}")
            await store.save_hand(hand_record(hand))
        pushed = []
        while True:
            event = await alice.next_event()
            assert isinstance(event, Event)
            pushed.append(event.body)
            if isinstance(event.body, LevelUp):
                break
        assert pushed[-1] == LevelUp(level=2, xp=500, reached_at_ms=hand.ended_at_ms)
        codes = [b.code for b in pushed if isinstance(b, AchievementEarned)]
        assert codes[0] == "first_hand"
        assert len(codes) == len(set(codes))  # each once
