"""Dealing the next hand: poker/seating.py's plan applied to the table's state. Pure.

``deal_next_hand`` decides who is dealt in and who posts what (dead button, missed blinds,
entry posts), records what players now owe or no longer owe, moves the button, and marks
the hand as running; the table then starts the hand actor with the setup it returns.
"""

from __future__ import annotations

from actors.table.messages import HandSetup, OwnerDeal
from actors.table.state import RunningHand, TableState
from poker import BlindSeats, HandConfig, ReturningPost, SeatSetup
from poker.seating import HandPlan, Positions, SeatedPlayer, plan_next_hand


def deal_next_hand(state: TableState, now_ms: int, terms: HandConfig) -> HandSetup | None:
    """The next hand's setup (``state`` updated), or None when fewer than two can play.
    ``terms``: its blinds, ante and rake (the table's stakes)."""
    if state.running is not None:
        return None
    config, seats = state.config, state.seats
    if state.owner_deal is not None:
        owners = _owner_plan(state, state.owner_deal)
        state.owner_deal = None
        for seat in owners.dealt_in:  # dealt in: nothing owed, whatever the cash rules said
            seats[seat].owes_big_blind = seats[seat].owes_small_blind = False
            seats[seat].post_to_enter = False
        return _setup(state, now_ms, terms, owners)
    previous = Positions(*state.previous) if state.previous else None
    # A player who turned auto_post_blinds off posts a blind only when she consented to it
    # (sat down or sat in since her last one): else she is sat out when it is due, and the
    # hand is planned again without her (each pass sits out at least one more: bounded).
    declined: set[int] = set()
    for _ in range(config.seats + 1):
        players = [
            SeatedPlayer(
                seat=seat,
                player_id=str(r.player_id),
                stack=r.stack,
                sitting_out=r.sitting_out or r.leaving or seat in declined,
                owes_big_blind=r.owes_big_blind,
                owes_small_blind=r.owes_small_blind,
                post_to_enter=r.post_to_enter,
            )
            for seat, r in seats.items()
        ]
        plan = plan_next_hand(players, config.seats, previous)
        if plan is None:
            return None
        refusing = {
            seat
            for seat in (plan.small_blind_poster, plan.big_blind_poster)
            if seat is not None
            and not seats[seat].auto_post_blinds
            and not seats[seat].blind_consent
        }
        if not refusing:
            break
        declined |= refusing
    else:
        raise AssertionError("a hand planned more times than there are seats")
    for refused in declined:
        seats[refused].sitting_out = True
        seats[refused].post_to_enter = False
    for poster in (plan.small_blind_poster, plan.big_blind_poster):
        if poster is not None:
            seats[poster].blind_consent = False  # the next blind due asks again
    for missed in plan.missed:
        seats[missed.seat].owes_big_blind |= missed.big_blind
        seats[missed.seat].owes_small_blind |= missed.small_blind
    for seat in plan.settled:
        seats[seat].owes_big_blind = seats[seat].owes_small_blind = False
        seats[seat].post_to_enter = False
    return _setup(state, now_ms, terms, plan)


def _owner_plan(state: TableState, deal: OwnerDeal) -> HandPlan:
    """The owner's plan as this table's: its players must sit where it says, with chips.
    A plan of other seats is our own broken invariant (the owner aligns the table's seats
    before it releases it): the table crashes rather than deal a hand the owner cannot
    count."""
    for seat, player_id in deal.dealt:
        record = state.seats.get(seat)
        if record is None or record.player_id != player_id or record.stack <= 0:
            raise AssertionError(f"{state.config.table_id}: the owner's plan names seat {seat}")
    dealt = tuple(seat for seat, _ in deal.dealt)
    return HandPlan(
        positions=Positions(deal.button, deal.small_blind, deal.big_blind),
        small_blind_poster=deal.small_blind_poster,
        big_blind_poster=deal.big_blind_poster,
        dealt_in=dealt,
        entry_posts=(),
        missed=(),
        settled=dealt,
    )


def _setup(state: TableState, now_ms: int, terms: HandConfig, plan: HandPlan) -> HandSetup:
    config, seats = state.config, state.seats
    posts = {
        post.seat: (
            ReturningPost.BIG_BLIND_AND_DEAD_SMALL
            if post.dead_small_blind
            else ReturningPost.BIG_BLIND
        )
        for post in plan.entry_posts
    }
    dealt = plan.dealt_in
    number = state.next_hand_number
    setup = HandSetup(
        table_id=config.table_id,
        hand_number=number,
        config=terms,
        seats=tuple(
            SeatSetup(
                seat=seat,
                player_id=str(seats[seat].player_id),
                stack=seats[seat].stack,
                posts=posts.get(seat, ReturningPost.NONE),
            )
            for seat in dealt
        ),
        button=plan.positions.button,
        blinds=BlindSeats(small=plan.small_blind_poster, big=plan.big_blind_poster),
        time_banks_ms=tuple((seat, seats[seat].time_bank_ms) for seat in dealt),
        disconnected=tuple(seat for seat in dealt if not seats[seat].connected),
        action_timeout_ms=config.action_timeout_ms,
        auto_muck=tuple(seat for seat in dealt if seats[seat].auto_muck),
    )
    positions = plan.positions
    state.previous = (positions.button, positions.small_blind, positions.big_blind)
    state.next_hand_number = number + 1
    state.running = RunningHand(
        hand_number=number,
        seats=dealt,
        starting_stacks=tuple(seats[seat].stack for seat in dealt),
        started_at_ms=now_ms,
    )
    return setup
