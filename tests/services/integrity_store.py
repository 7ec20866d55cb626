"""A generated room (tests/poker/integrity/generated.py) stored as hand histories, fast: all
hands in one unit of work. Dumping hands carry a real PHH (the giver calls all in with
nothing), so the runner's patterns can be checked end to end."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import msgspec

from persistence import Store
from persistence.hands import HandPlayer, HandRecord
from persistence.work import QueryMany, Work
from poker.integrity import SeatedHand
from tests.poker.integrity.generated import DUMPEE, DUMPER

BASE_MS = 1_700_000_000_000  # the generated room's time 0

DUMP_PHH = """variant = 'NT'
antes = [0, 0]
blinds_or_straddles = [1, 2]
min_bet = 2
starting_stacks = [400, 400]
players = ['{giver}', '{receiver}']
actions = ['d dh p1 8h3c', 'd dh p2 AsKs', 'p2 cbr 400', 'p1 cc', 'd db Kd7s2c9dJh']
"""


def _same(player_id: int) -> int:
    return player_id


def record(hand: SeatedHand, rename: Callable[[int], int] = _same) -> HandRecord:
    nets = {p.player_id: p.net for p in hand.players}
    dumped = (
        nets.get(DUMPER, 0) < 0
        and nets.get(DUMPEE, 0) > 0
        and len([n for n in nets.values() if n]) == 2
    )
    return HandRecord(
        hand_id=hand.hand_id,
        table_id=hand.table_id,
        game=hand.game,
        started_at_ms=BASE_MS + hand.ended_at_ms - 30_000,
        ended_at_ms=BASE_MS + hand.ended_at_ms,
        pot_total=-sum(n for n in nets.values() if n < 0),
        rake=-sum(nets.values()),
        players=tuple(
            HandPlayer(player_id=rename(p.player_id), seat=i, net=p.net)
            for i, p in enumerate(hand.players)
        ),
        phh=DUMP_PHH.format(giver=rename(DUMPER), receiver=rename(DUMPEE)) if dumped else "",
        asset=hand.asset,
    )


async def store_room(
    store: Store, hands: Iterable[SeatedHand], rename: Callable[[int], int] = _same
) -> None:
    """``rename``: the player id each generated id is stored as (accounts of the test).

    Two batched statements instead of save_hand per hand (thousands of round trips to
    PostgreSQL): the rows are the ones save_hand writes, with seq given (1, 2, ...), so the
    room must go into a store without hands."""
    records = [record(hand, rename) for hand in hands]
    encode = msgspec.json.Encoder().encode

    def save_all() -> Work[None]:
        yield QueryMany(
            "INSERT INTO hand_histories (seq, hand_id, table_id, game, started_at_ms,"
            " ended_at_ms, pot_total, rake, players, phh, asset)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            [
                (
                    seq,
                    r.hand_id,
                    r.table_id,
                    r.game,
                    r.started_at_ms,
                    r.ended_at_ms,
                    r.pot_total,
                    r.rake,
                    encode(r.players).decode(),
                    r.phh,
                    r.asset,
                )
                for seq, r in enumerate(records, start=1)
            ],
        )
        yield QueryMany(
            "INSERT INTO hand_players (player_id, hand_seq, rake_paid) VALUES ($1, $2, 0)",
            [(p.player_id, seq) for seq, r in enumerate(records, start=1) for p in r.players],
        )

    await store.run(save_all)
