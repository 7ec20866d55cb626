"""A client's check of provably fair deals from the pushes it received (docs/fairness.md,
"The Python SDK"): the few lines that collect a hand's wire pushes into the arguments of
``poker.fairness.verify_observed``. Used by the table tests and the websocket tests.

(No tests here: a helper for them.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from poker import Variant, fairness
from protocol import game


@dataclass
class ObservedHand:
    """What one player saw of one hand."""

    table_id: str
    hand_number: int
    announced: str | None  # deal_commitment's, if it came before hand_started
    commitment: str | None  # hand_started's
    dealing_order: tuple[int, ...]
    hole_cards: dict[int, tuple[str, ...]] = field(default_factory=dict)
    boards: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)
    ended: game.HandEnded | None = None

    @property
    def hand_id(self) -> str:
        return f"{self.table_id}:{self.hand_number}"

    def verify(
        self, hole_cards_each: int, own_seat: int | None = None, own_seed: bytes | None = None
    ) -> None:
        """Raise a ``fairness.VerificationFailed`` (or ``FairnessInputInvalid``) unless the
        reveal explains the commitment and every card this player saw."""
        ended = self.ended
        assert ended is not None, "the hand has not ended"
        if self.commitment is None or ended.server_seed is None:
            raise fairness.FairnessInputInvalid("no commitment or no reveal")
        if self.announced is not None and self.announced != self.commitment:
            raise fairness.CommitmentMismatch("hand_started changed the announced commitment")
        fairness.verify_observed(
            commitment_hash=bytes.fromhex(self.commitment),
            server_seed=bytes.fromhex(ended.server_seed),
            hand_id=self.hand_id,
            client_seeds={s.seat: bytes.fromhex(s.seed) for s in ended.client_seeds},
            dealing_order=self.dealing_order,
            hole_cards_each=hole_cards_each,
            hole_cards=self.hole_cards,
            boards=self.boards,
            own_seat=own_seat,
            own_client_seed=own_seed,
        )


@dataclass
class DealWatch:
    """Feed every push one player receives (``see``); finished hands collect in ``ended``."""

    announced: dict[tuple[str, int], str] = field(default_factory=dict)
    # table -> a table_snapshot's next_commitment: the next hand's (its number unsaid)
    upcoming: dict[str, str] = field(default_factory=dict)
    running: dict[tuple[str, int], ObservedHand] = field(default_factory=dict)
    ended: list[ObservedHand] = field(default_factory=list)

    def see(self, body: object) -> ObservedHand | None:
        """The hand that ``body`` ended, if it ended one."""
        match body:
            case game.TableSnapshot(table_id=t, next_commitment=c) if c is not None:
                self.upcoming[t] = c
            case game.DealCommitment(table_id=t, hand_number=n, commitment=c):
                self.announced[(t, n)] = c
                self.upcoming.pop(t, None)
            case game.HandStarted(table_id=t, hand_number=n):
                upcoming = self.upcoming.pop(t, None)
                self.running[(t, n)] = ObservedHand(
                    table_id=t,
                    hand_number=n,
                    announced=self.announced.pop((t, n), upcoming),
                    commitment=body.commitment,
                    dealing_order=body.seats,
                )
            case game.HoleCards(table_id=t, hand_number=n, seat=seat, cards=cards):
                if (hand := self.running.get((t, n))) is not None:
                    hand.hole_cards[seat] = cards
            case game.Showdown(table_id=t, hand_number=n, seat=seat, cards=cards) if cards:
                if (hand := self.running.get((t, n))) is not None:
                    hand.hole_cards[seat] = cards
            case game.BoardDealt(table_id=t, hand_number=n, cards=cards, run=run):
                if (hand := self.running.get((t, n))) is not None:
                    hand.boards.append((run, cards))
            case game.HandEnded(table_id=t, hand_number=n):
                if (hand := self.running.pop((t, n), None)) is not None:
                    hand.ended = body
                    self.ended.append(hand)
                    return hand
            case _:
                pass
        return None


def hole_cards_each(variant: game.VariantCode) -> int:
    return Variant(variant).hole_cards
