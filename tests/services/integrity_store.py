"""A generated room (tests/poker/integrity/generated.py) stored as hand histories, fast: all
hands in one unit of work. Dumping hands carry a real PHH (the giver calls all in with
nothing), so the runner's patterns can be checked end to end."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from persistence import Store
from persistence.hands import HandPlayer, HandRecord, save_hand
from persistence.work import Work
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
    """``rename``: the player id each generated id is stored as (accounts of the test)."""
    records = [record(hand, rename) for hand in hands]

    def save_all() -> Work[None]:
        for item in records:
            yield from save_hand(item)

    await store.run(save_all)
