"""What the table knows of the running hand (for a late viewer's snapshot) comes from the
hand's typed engine events; it must say exactly what the hand's own pushes said (board, pots,
bets, whose turn), at every decision of real hands."""

from __future__ import annotations

import random
from pathlib import Path

from actors.table.admin import PauseTable, ResumeTable
from actors.table.messages import AddWatcher, PlayerAct, SitIn, TopUpChips
from protocol import game
from tests.actors.test_table_fakes import choose, nlhe, running_game, sqlite_url

WATCHER = 999


class WireModel:
    """The view rebuilt from the pushes a watcher received (how the table used to do it)."""

    def __init__(self) -> None:
        self.board: list[str] = []
        self.pots: tuple[game.PotView, ...] = ()
        self.bets: dict[int, int] = {}

    def see(self, body: game.GamePush) -> None:
        match body:
            case game.HandStarted():
                self.board, self.pots, self.bets = [], (), {}
            case game.BoardDealt(cards=cards, run=0):
                self.board.extend(cards)
            case game.PotsChanged(pots=pots):
                self.pots, self.bets = pots, {}
            case game.ActionTaken(seat=seat, bet_to=bet_to):
                self.bets[seat] = bet_to
            case game.BlindPosted(seat=seat, amount=amount, kind=kind) if kind != "ante":
                self.bets[seat] = self.bets.get(seat, 0) + amount
            case _:
                pass


async def test_the_snapshot_of_a_running_hand_agrees_with_its_pushes(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=81) as session:
        table = await session.open_table(nlhe("live", ante=1, between_hands_ms=0))
        players = [1, 2, 3, 4]
        await session.fund(players)
        stream = session.channel.stream()
        await table.ask(PauseTable())  # everyone seated and watching before the first hand
        seats = await session.seat_all(table, players, buy_in=200)
        await table.ask(AddWatcher(player_id=WATCHER))
        await table.ask(ResumeTable())
        rng, model, checked = random.Random(81), WireModel(), 0
        async for player_id, body in stream:
            if player_id != WATCHER:
                continue
            if isinstance(body, game.TableSnapshot):
                continue
            model.see(body)
            if isinstance(body, game.HandEnded):
                if body.hand_number >= 6:
                    break
                for seat, stack in zip(body.seats, body.stacks, strict=True):
                    if stack == 0:  # busted: chips again, and back in
                        await table.ask(TopUpChips(player_id=seats[seat], amount=200))
                        await table.ask(SitIn(player_id=seats[seat], post_now=True))
            if not isinstance(body, game.ActionRequired):
                continue
            await table.ask(AddWatcher(player_id=WATCHER))  # a fresh snapshot, now
            snapshot = session.channel.of(WATCHER, game.TableSnapshot)[-1]
            assert snapshot.board == tuple(model.board)
            assert snapshot.pots == model.pots
            assert snapshot.bets == tuple(sorted(model.bets.items()))
            assert snapshot.to_act == body.seat
            checked += 1
            action, amount, agree = choose(body.legal, rng)
            act = PlayerAct(
                player_id=seats[body.seat], hand_number=body.hand_number, action=action,
                amount=amount, agree=agree, decision_id=body.decision_id,
            )  # fmt: skip
            await table.ask(act)
        assert checked > 20
