"""Seeded room histories for the integrity reports: honest play with planted cheats.

A room of one stakes group ("NT 1/2", real money) runs TABLES six-max tables. Every window of
15 minutes, each player is active with some chance; the active players are shuffled into the
tables (the null hypothesis of the collusion statistic, exactly), except that planted
partners sit together whenever both are active. Each table plays HANDS_PER_WINDOW hands: two
or three players contest a pot of random size with a random winner, rake 5% capped at 3 big
blinds. Planted chip dumpers, when they share a table, dump in some of their hands: the giver
loses 20-80 big blinds to the receiver.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from poker.integrity import SeatedHand, SeatedPlayer
from poker.integrity.collusion import WINDOW_MS_DEFAULT

GAME = "NT 1/2"
BIG_BLIND = 2
TABLES = 6
SEATS = 6
HANDS_PER_WINDOW = 8
HONEST = tuple(range(1, 49))
DUMPER, DUMPEE = 101, 102  # chips flow DUMPER -> DUMPEE
COLLUDERS = (201, 202)  # sit together whenever both play; otherwise play honestly


@dataclass(frozen=True)
class Room:
    hands: list[SeatedHand]
    seed: int


def _contest(
    rng: random.Random, contestants: list[int], shark: int | None = None
) -> dict[int, int]:
    winner = rng.choice(contestants)
    if shark in contestants:  # a better player: wins 60% of her pots instead of 1 in 2 or 3
        others = [p for p in contestants if p != shark]
        winner = shark if rng.random() < 0.6 else rng.choice(others)
    nets = {}
    pot = 0
    for player in contestants:
        if player == winner:
            continue
        paid = max(1, round(rng.lognormvariate(1.6, 1.0))) * BIG_BLIND
        nets[player] = -paid
        pot += paid
    rake = min(pot * 5 // 100, 3 * BIG_BLIND)
    nets[winner] = pot - rake
    return nets


def generate_room(
    seed: int,
    *,
    windows: int = 100,
    dump_chance: float = 0.15,
    plant_dumpers: bool = True,
    plant_colluders: bool = True,
    shark: int | None = None,
) -> Room:
    """``shark``: an honest player who is better than the rest (wins 60% of her pots)."""
    rng = random.Random(seed)
    players = list(HONEST)
    if plant_dumpers:
        players += [DUMPER, DUMPEE]
    if plant_colluders:
        players += list(COLLUDERS)
    hands: list[SeatedHand] = []
    for window in range(windows):
        active = [p for p in players if rng.random() < 0.7]
        rng.shuffle(active)
        active = active[: TABLES * SEATS]
        tables = [active[i::TABLES] for i in range(TABLES)]
        for partners in ((DUMPER, DUMPEE), COLLUDERS):
            first, second = partners
            if first in active and second in active:
                _seat_together(tables, first, second)
        for index, seated in enumerate(tables):
            if len(seated) < 2:
                continue
            table_id = f"t{index + 1}"
            for number in range(HANDS_PER_WINDOW):
                dumping = DUMPER in seated and DUMPEE in seated and rng.random() < dump_chance
                if dumping:
                    loss = rng.randint(20, 80) * BIG_BLIND
                    nets = {DUMPER: -loss, DUMPEE: loss - min(loss * 5 // 100, 3 * BIG_BLIND)}
                else:
                    contestants = rng.sample(seated, min(len(seated), rng.choice((2, 2, 3))))
                    nets = _contest(rng, contestants, shark)
                hands.append(
                    SeatedHand(
                        hand_id=f"{table_id}:{window}:{number}",
                        table_id=table_id,
                        game=GAME,
                        asset="chips",
                        ended_at_ms=window * WINDOW_MS_DEFAULT + number * 60_000 + index,
                        players=tuple(SeatedPlayer(p, nets.get(p, 0)) for p in seated),
                    )
                )
    return Room(hands=hands, seed=seed)


def _seat_together(tables: list[list[int]], first: int, second: int) -> None:
    """Move ``second`` to ``first``'s table, swapping with someone there (or joining it)."""
    home = next(t for t in tables if first in t)
    if second in home:
        return
    away = next(t for t in tables if second in t)
    others = [p for p in home if p != first and p not in (DUMPER, DUMPEE, *COLLUDERS)]
    away.remove(second)
    if len(home) < SEATS or not others:
        home.append(second)
        return
    swapped = others[0]
    home.remove(swapped)
    home.append(second)
    away.append(swapped)
