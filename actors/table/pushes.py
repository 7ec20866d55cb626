"""What each player may see of a hand: engine events -> wire pushes, with their audience.

Pure (no I/O, no clock): the hand actor calls it and the table delivers. The one private
thing is a player's hole cards (``HoleCardsDealt``): they go to the seat's owner only, until
the player shows them (``HandShown``, public). Everything else is public.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from actors.table.messages import Audience
from poker import LegalActions
from poker import events as ev
from protocol import game

EVERYONE: Final = None


def _legal(legal: LegalActions) -> game.Legal:
    return game.Legal(
        fold=legal.fold,
        check=legal.check,
        call=legal.call,
        min_raise_to=legal.min_raise_to,
        max_raise_to=legal.max_raise_to,
        show=legal.show,
        muck=legal.muck,
        run_it_twice=legal.run_it_twice,
    )


def action_required(
    table_id: str,
    hand_number: int,
    legal: LegalActions,
    *,
    decision_id: int,
    act_within_ms: int,
    time_bank_ms: int,
    now_ms: int,
) -> game.ActionRequired:
    """The prompt for the decision ``decision_id``, with the time left of it as of ``now_ms``
    (server time): the table acts for the player at ``now_ms`` + both."""
    return game.ActionRequired(
        table_id=table_id,
        hand_number=hand_number,
        seat=legal.seat,
        legal=_legal(legal),
        act_within_ms=act_within_ms,
        time_bank_ms=time_bank_ms,
        decision_id=decision_id,
        deadline_ms=now_ms + act_within_ms + time_bank_ms,
    )


def pushes_for(
    table_id: str,
    hand_number: int,
    events: Iterable[ev.Event],
    timed_out_seat: int | None = None,
) -> list[tuple[Audience, game.GamePush]]:
    """The pushes that ``events`` make. ``timed_out_seat``: the table acted for that seat."""
    out: list[tuple[Audience, game.GamePush]] = []
    t, n = table_id, hand_number
    for event in events:
        match event:
            case ev.HoleCardsDealt(seat=seat, cards=cards):
                # Private: the owner only (the invariant the leak test checks on every body).
                out.append(
                    (seat, game.HoleCards(table_id=t, hand_number=n, seat=seat, cards=cards))
                )
            case ev.HandStarted():
                body: game.GamePush = game.HandStarted(
                    table_id=t,
                    hand_number=n,
                    button=event.button,
                    seats=event.seats,
                    stacks=event.stacks,
                    small_blind_seat=event.small_blind_seat,
                    big_blind_seat=event.big_blind_seat,
                )
                out.append((EVERYONE, body))
            case ev.AntePosted(seat=seat, amount=amount, all_in=all_in):
                body = game.BlindPosted(
                    table_id=t, hand_number=n, seat=seat, kind="ante", amount=amount, all_in=all_in
                )
                out.append((EVERYONE, body))
            case ev.BlindPosted(seat=seat, kind=kind, amount=amount, all_in=all_in):
                body = game.BlindPosted(
                    table_id=t,
                    hand_number=n,
                    seat=seat,
                    kind=kind.value,
                    amount=amount,
                    all_in=all_in,
                )
                out.append((EVERYONE, body))
            case ev.PlayerActed():
                body = game.ActionTaken(
                    table_id=t,
                    hand_number=n,
                    seat=event.seat,
                    action=event.action.value,
                    amount=event.amount,
                    bet_to=event.bet_to,
                    all_in=event.all_in,
                    timed_out=event.seat == timed_out_seat,
                )
                out.append((EVERYONE, body))
            case ev.UncalledBetReturned(seat=seat, amount=amount):
                body = game.UncalledBetReturned(table_id=t, hand_number=n, seat=seat, amount=amount)
                out.append((EVERYONE, body))
            case ev.BoardDealt(street=street, cards=cards, run=run):
                body = game.BoardDealt(
                    table_id=t,
                    hand_number=n,
                    street=street.value,  # type: ignore[arg-type]  # never preflop
                    cards=cards,
                    run=run,
                )
                out.append((EVERYONE, body))
            case ev.PotsUpdated(pots=pots):
                views = tuple(game.PotView(amount=p.amount, eligible=p.eligible) for p in pots)
                out.append((EVERYONE, game.PotsChanged(table_id=t, hand_number=n, pots=views)))
            case ev.RunItTwiceOffered(seats=seats):
                body = game.RunItTwiceOffered(table_id=t, hand_number=n, seats=seats)
                out.append((EVERYONE, body))
            case ev.RunItTwiceDecided(runs=runs):
                out.append((EVERYONE, game.RunItTwiceDecided(table_id=t, hand_number=n, runs=runs)))
            case ev.HandShown(seat=seat, cards=cards):
                body = game.Showdown(table_id=t, hand_number=n, seat=seat, cards=cards)
                out.append((EVERYONE, body))
            case ev.HandMucked(seat=seat):
                body = game.Showdown(table_id=t, hand_number=n, seat=seat, cards=(), mucked=True)
                out.append((EVERYONE, body))
            case ev.PotAwarded():
                body = game.PotAwarded(
                    table_id=t,
                    hand_number=n,
                    pot_index=event.pot_index,
                    run=event.run,
                    share=event.share.value,
                    seat=event.seat,
                    amount=event.amount,
                    hand=event.hand,
                )
                out.append((EVERYONE, body))
            case ev.HandEnded(seats=seats, stacks=stacks, rake=rake):
                body = game.HandEnded(
                    table_id=t, hand_number=n, seats=seats, stacks=stacks, rake=rake
                )
                out.append((EVERYONE, body))
            case _:
                # ActionRequested / ShowdownRequested become ActionRequired (with the legal
                # actions and the clock) from the hand actor; RunItTwiceAnswered and
                # RakeTaken are in the history, not on the wire.
                pass
    return out
