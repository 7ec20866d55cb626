"""A table's provably fair deals (docs/fairness.md): the secret server seed of the next hand,
the seeds a running hand was dealt with, and the wire's commitment and reveal. Pure but for
the CSPRNG it is handed (``TableDeps.rng``: the system's in production, seeded in tests).

The server seed lives here only, in the table actor's memory: never in ``TableState`` (its
snapshot goes to the store), never in a log. A table that restarts loses it: the hand it
would have dealt is dealt from a fresh seed under a fresh commitment, and a hand that was
running is voided without a reveal (nothing was won or lost in it).

Order of events for hand ``N`` (what makes the commitment worth something): the seed is drawn
and ``deal_commitment`` sent when the previous hand ends or the table starts; players'
``set_client_seed`` arrive after it; hand ``N`` starts with the client seeds in force then
(a seat with none gets a default drawn here) and repeats the commitment in ``hand_started``;
``hand_ended`` reveals the server seed and every seat's client seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import final

import msgspec

from poker import Deck, fairness
from poker import events as ev
from protocol import game


def hand_id_of(table_id: str, hand_number: int) -> str:
    """The hand id the deck is derived from: ``"{table_id}:{hand_number}"``, built from
    fields every hand message carries (the store's hand id adds the table's epoch)."""
    return f"{table_id}:{hand_number}"


@final
@dataclass(frozen=True, slots=True)
class HandSeeds:
    """What a running hand was dealt with: kept by the table until the reveal."""

    hand_id: str
    server_seed: bytes
    client_seeds: Mapping[int, bytes]  # seat -> seed, every seat dealt in

    def commitment_hex(self) -> str:
        return fairness.commitment(self.server_seed).hex()

    def deck(self) -> Deck:
        return fairness.fair_deck(self.server_seed, self.hand_id, self.client_seeds)

    def proof(self, events: Iterable[ev.Event]) -> fairness.DealProof:
        """The hand's proof from the engine's events; ``VerificationFailed`` if the engine
        did not deal from this deck (our bug: the table crashes)."""
        return fairness.proof_for_hand(
            hand_id=self.hand_id,
            server_seed=self.server_seed,
            client_seeds=self.client_seeds,
            events=events,
        )


@final
class FairDealer:
    """The next hand's server seed (drawn ahead, committed to) and the hand seeds."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._next: tuple[int, bytes] | None = None  # (hand number, server seed)

    def commitment(self, hand_number: int) -> str | None:
        """The hex commitment for ``hand_number``, if its seed is drawn."""
        if self._next is None or self._next[0] != hand_number:
            return None
        return fairness.commitment(self._next[1]).hex()

    def draw(self, table_id: str, hand_number: int) -> game.DealCommitment | None:
        """Draw the seed for ``hand_number`` unless it is drawn already; the push that
        announces a new one (None when nothing changed)."""
        if self._next is not None and self._next[0] == hand_number:
            return None
        seed = self.rng.randbytes(fairness.SERVER_SEED_BYTES)
        self._next = (hand_number, seed)
        return game.DealCommitment(
            table_id=table_id,
            hand_number=hand_number,
            commitment=fairness.commitment(seed).hex(),
        )

    def deal(
        self,
        table_id: str,
        hand_number: int,
        seats: Iterable[int],
        chosen: Mapping[int, bytes],
    ) -> HandSeeds:
        """The seeds hand ``hand_number`` is dealt with: the committed server seed (drawn
        now if it was not), ``chosen[seat]`` for a seat whose player set one, a default from
        the CSPRNG for every other seat dealt in. The seed is used up."""
        self.draw(table_id, hand_number)
        assert self._next is not None
        _, server_seed = self._next
        self._next = None
        client_seeds = {
            seat: chosen[seat]
            if seat in chosen
            else self.rng.randbytes(fairness.CLIENT_SEED_BYTES_DEFAULT)
            for seat in seats
        }
        return HandSeeds(hand_id_of(table_id, hand_number), server_seed, client_seeds)


def with_commitment(body: game.HandStarted, seeds: HandSeeds) -> game.HandStarted:
    return msgspec.structs.replace(body, commitment=seeds.commitment_hex())


def with_reveal(body: game.HandEnded, proof: fairness.DealProof) -> game.HandEnded:
    return msgspec.structs.replace(
        body,
        server_seed=proof.server_seed.hex(),
        client_seeds=tuple(
            game.ClientSeed(seat=seat, seed=seed.hex()) for seat, seed in proof.client_seeds
        ),
    )
