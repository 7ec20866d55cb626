"""A finished cash hand as a stored history row (PHH text plus summary columns). Pure.

PHH numbers players by position (``p1`` first left of the button, the button last), so the
table's seats are mapped to positions before the events are written, and the real seats go
in the ``seats`` field (1-based, as PHH counts them), the table's size in ``seat_count`` and
its name in the user field ``_table_name`` (text histories print all three). Limits of PHH: a
dead small blind and a returning player's posted blinds have no PHH form; the history then
records the action and the finishing stacks as played, with the standard blinds header.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import msgspec

from actors.table.state import LiveHand, RunningHand, TableState
from persistence.hands import HandPlayer, HandRecord
from players.stats import remember_written
from poker import HandResult, fairness, phh
from poker import events as ev
from poker.config import HandConfig
from poker.rake_shares import rake_shares
from poker.simulate import history_from_events
from poker.text_history import TABLE_NAME_FIELD


def _by_position(event: ev.Event, position_of: Mapping[int, int]) -> ev.Event:
    seat = getattr(event, "seat", None)
    if seat is None:
        return event
    return msgspec.structs.replace(event, seat=position_of[seat])


def phh_text(
    config: HandConfig,
    table_id: str,
    table_name: str,
    hand_number: int,
    seat_count: int,
    players: Mapping[int, int],
    events: Sequence[ev.Event],
    result: HandResult,
    proof: fairness.DealProof | None = None,
) -> str:
    """``players``: seat -> player id of every dealt-in seat. ``proof``: the deal's, written
    as the ``_fair_*`` user fields (docs/fairness.md) that ``tablium hands verify`` reads."""
    order = result.seats  # dealing order: position 0 first
    position_of = {seat: pos for pos, seat in enumerate(order)}
    history = history_from_events(
        config,
        result.starting_stacks,
        [_by_position(event, position_of) for event in events],
        result.stacks,
    )
    history = replace(
        history,
        table=table_id,
        hand=hand_number,
        seat_count=seat_count,
        seats=tuple(seat + 1 for seat in order),
        players=tuple(str(players[seat]) for seat in order),
        extra=(
            *history.extra,
            (TABLE_NAME_FIELD, table_name),
            *(fairness.history_fields(proof) if proof is not None else ()),
        ),
    )
    text = phh.dumps(history)
    remember_written(text, history)  # the store counts its statistics without parsing it
    return text


def hand_record(
    *,
    config: HandConfig,
    table_id: str,
    table_name: str,
    hand_id: str,
    hand_number: int,
    seat_count: int,
    players: Mapping[int, int],
    events: Sequence[ev.Event],
    result: HandResult,
    started_at_ms: int,
    ended_at_ms: int,
    asset: str = "chips",
    proof: fairness.DealProof | None = None,
) -> HandRecord:
    """``hand_id``: unique forever (TableState.hand_id: the table's epoch is in it). Each
    player's ``rake_paid`` is her share of the rake (poker/rake_shares.py: weighted
    contributed; the shares sum to the rake)."""
    shares = rake_shares(result)  # aligned with result.seats
    return HandRecord(
        hand_id=hand_id,
        table_id=table_id,
        game=f"{config.variant.value} {config.small_blind}/{config.big_blind}",
        started_at_ms=started_at_ms,
        ended_at_ms=ended_at_ms,
        pot_total=sum(pot.amount for pot in result.pots),
        rake=result.rake,
        players=tuple(
            HandPlayer(player_id=players[seat], seat=seat, net=result.net_of(seat), rake_paid=share)
            for seat, share in zip(result.seats, shares, strict=True)
        ),
        phh=phh_text(
            config, table_id, table_name, hand_number, seat_count, players, events, result, proof
        ),
        asset=asset,
    )


def finished_hand(
    state: TableState,
    running: RunningHand,
    players: Mapping[int, int],
    live: LiveHand | None,
    result: HandResult,
    terms: HandConfig,
    ended_at_ms: int,
) -> HandRecord:
    """The history of the table's hand that just ended (``terms``: what it was dealt with)."""
    config = state.config
    return hand_record(
        config=terms,
        table_id=config.table_id,
        table_name=config.name,
        hand_id=state.hand_id(running.hand_number),
        hand_number=running.hand_number,
        seat_count=config.seats,
        players=players,
        events=live.events if live is not None else [],
        result=result,
        started_at_ms=running.started_at_ms,
        ended_at_ms=ended_at_ms,
        asset=config.asset,
        proof=live.proof if live is not None else None,
    )
