"""The tournament actor's stored state and its dependencies (actors/tournament.py): what the
live system keeps beside the core's snapshot (``LiveState``: the level clock, payouts owed,
money-in intents, the pending deal...), the director's spec and the core's config made from
it."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol, final

import msgspec

from actors.table.deps import (
    PlayerChannel,
    TableDeps,
)
from actors.tournament_messages import (
    DIRECTORY_NAME,
    TournamentMessage,
    TournamentRefusal,
    TournamentSpec,
    TournamentState,
    TournamentSummary,
)
from persistence.leases import NodeFences
from persistence.store import Store, wall_clock_ms
from poker.tournament import (
    HEADS_UP,
    MTT,
    SNG_6MAX,
    SNG_9MAX,
    PayoutConfig,
    Tournament,
    TournamentConfig,
    TournamentRefused,
    preset,
)
from poker.tournament import effects as fx
from services.wallet import Wallet

LIVE_VERSION: Final = 1

OWED_MAX: Final = 100_000  # bound: payouts owed at once (a step pays at most the field)


class Owed(msgspec.Struct, frozen=True):
    """A payout stored before it is made (write-ahead)."""

    op: str
    player_id: int
    amount: int
    kind: str  # prize, bounty, deal, overlay, refund
    entry: int = 0
    fee: int = 0  # refunds: the fee part (fees -> wallet)
    knocked_out: int = 0


class PayIn(msgspec.Struct, frozen=True):
    """A buy-in (entry, re-entry), rebuy or add-on stored before its transfer (write-ahead):
    ``to_pool`` wallet -> prize pool under ``tournament:<id>:<op>``, ``fee`` wallet -> fees
    under ``<op>:fee``. Its step (the entry, the chips) is stored after the transfer; a
    restart that finds it without its step completes it or refunds what landed
    (``<op>:undo``, ``<op>:undo:fee``)."""

    op: str
    kind: str  # entry, rebuy, addon
    player_id: int
    to_pool: int
    fee: int
    entry: int
    # The name its transfers go by: ``op``, or after ``n`` earlier attempts at the same
    # op were undone, ``<op>:retry<n>`` (the core names the next entry or rebuy as the one
    # refused: its keys must never replay the refused attempt's).
    ledger_op: str = ""


class PendingDeal(msgspec.Struct):
    deal_id: int
    kind: str
    keep: int
    entries: list[int]
    amounts: list[int]
    accepted: list[int]
    expires_at_play_ms: int


class LiveState(msgspec.Struct):
    """What the live system keeps beside the core's snapshot."""

    version: int
    tournament_id: int
    spec: TournamentSpec
    state: TournamentState = "registering"
    elapsed_ms: int = 0  # the level clock's play time (fed to core.clock)
    paused: bool = False
    owed: list[Owed] = msgspec.field(default_factory=list)
    paying: list[PayIn] = msgspec.field(default_factory=list)  # at most one (one message)
    # core op -> attempts at it undone (bound: one op per entry or rebuy number reused).
    undone: dict[str, int] = msgspec.field(default_factory=dict)
    # player -> the client address she registered from (the one-address rule; bound: one
    # per player registered, as the entries).
    addresses: dict[int, str] = msgspec.field(default_factory=dict)
    # Entries a director removed before the start without a refund: their buy-in and bounty
    # stay in the pool as prize money (a cancel before the start gives those back too).
    forfeited: list[int] = msgspec.field(default_factory=list)
    steps: int = 0
    moves: int = 0
    stakes: dict[int, int] = msgspec.field(default_factory=dict)  # table -> level applied
    offers: dict[int, int] = msgspec.field(default_factory=dict)  # entry -> offer number
    offers_made: int = 0
    deal: PendingDeal | None = None
    deals_proposed: int = 0
    hand_for_hand_rounds: int = 0


_LIVE_ENCODER: Final = msgspec.msgpack.Encoder()

_LIVE_DECODER: Final = msgspec.msgpack.Decoder(LiveState)

_SPEC_DECODER: Final = msgspec.msgpack.Decoder(TournamentSpec)


def encode_spec(spec: TournamentSpec) -> bytes:
    return _LIVE_ENCODER.encode(spec)


def decode_spec(data: bytes) -> TournamentSpec:
    return _SPEC_DECODER.decode(data)


def core_config(spec: TournamentSpec) -> TournamentConfig:
    """The rules core's config for a director's spec (TournamentRefused if it cannot run)."""
    if (spec.preset is None) == (spec.structure is None):
        raise TournamentRefusal("structure_invalid", "give a preset or a structure, not both")
    try:
        structure = spec.structure if spec.structure is not None else preset(spec.preset or "")
    except KeyError:
        raise TournamentRefusal("structure_invalid", f"no preset {spec.preset!r}") from None
    payout: PayoutConfig
    if spec.kind == "sng":
        if spec.entries_max <= 2:
            payout = HEADS_UP
        elif spec.entries_max <= 6:
            payout = SNG_6MAX
        else:
            payout = SNG_9MAX
    else:
        payout = MTT if spec.paid_bp is None else PayoutConfig(paid_bp=spec.paid_bp)
    return TournamentConfig(
        structure=structure,
        seats_per_table=spec.seats_per_table,
        buy_in=spec.buy_in,
        fee=spec.fee,
        bounty=spec.bounty,
        bounty_kind=spec.bounty_kind,
        guarantee=spec.guarantee,
        payout=payout,
        hand_for_hand_at_pay_jumps=spec.hand_for_hand_at_pay_jumps,
        hand_for_hand_from_bubble=spec.hand_for_hand_from_bubble,
        entries_max=spec.entries_max,
    )


def check_spec(spec: TournamentSpec) -> TournamentConfig:
    """Refuse a spec that cannot run (TournamentRefusal with the core's code)."""
    if not 0 < len(spec.name) <= 100:
        raise TournamentRefusal("structure_invalid", "a name of 1..100 characters")
    if spec.asset not in ("chips", "play"):
        raise TournamentRefusal("structure_invalid", "asset must be chips or play")
    if not 2 <= spec.entries_min <= spec.entries_max:
        raise TournamentRefusal("structure_invalid", "need 2 <= entries_min <= entries_max")
    if spec.kind == "sng" and spec.entries_max > spec.seats_per_table:
        raise TournamentRefusal("structure_invalid", "a sit-and-go fills one table")
    for name in ("action_timeout_ms", "rebuy_decision_ms", "deal_vote_ms"):
        if not 1_000 <= getattr(spec, name) <= 3_600_000:
            raise TournamentRefusal("structure_invalid", f"{name} must be 1000..3600000")
    try:
        return core_config(spec)
    except TournamentRefused as exc:
        raise TournamentRefusal(exc.code, str(exc)) from None
    except (ValueError, msgspec.ValidationError) as exc:
        raise TournamentRefusal("structure_invalid", str(exc)) from None


class TournamentLease(Protocol):
    """This node's leases of tournaments (several nodes, docs/scaling.md "Tournaments"; the
    server's TableOwnership over ``tournament:<id>`` leases): ``ensure`` takes the lease
    and the next fencing epoch (True) unless another node holds it (False: it waits here
    and is opened when that lease lapses); ``fences`` holds the epochs this node's writes
    carry (the tournament's, and its tables')."""

    @property
    def node(self) -> str: ...

    @property
    def fences(self) -> NodeFences: ...

    async def ensure(self, table_id: str) -> bool: ...


class TournamentRoom(Protocol):
    """The other nodes of a room, as the directory reaches them (server/cluster_tournaments.py;
    docs/scaling.md, "Tournaments across nodes"). Every method does what a node alone does
    when no other node is live."""

    async def place(self, tournament_id: int) -> bool:
        """Open the new stored tournament on a less-loaded live node: True once that node
        runs it; False: open it here."""
        ...

    def share(self, summary: TournamentSummary) -> None:
        """A lobby line of a tournament of this node changed: the other nodes' directories
        list it too (never blocks)."""
        ...

    def tell(self, tournament_id: int, message: TournamentMessage) -> None:
        """``message`` to the tournament, on this node or the one that runs it (never
        blocks; at most once: a tournament that moved meanwhile does not get it)."""
        ...

    def entrant(self, player_id: int) -> None:
        """A tournament of this node pushes to the player: her sessions' logins and resumes
        on any node bring her pushes there (never blocks)."""
        ...

    def came_with(self, tournament_id: int, player_id: int) -> None:
        """The tournament opened on this node (a start, a hand-over, a takeover) with the
        player still in it: ``entrant``, and she is looked for on the other nodes, so that a
        session of hers there gets its pushes at once (never blocks)."""
        ...


@final
@dataclass(frozen=True, slots=True)
class TournamentDeps:
    """What every tournament shares. ``rng``: seat draws (seeded in tests)."""

    store: Store
    wallet: Wallet
    channel: PlayerChannel
    table_deps: TableDeps
    rng: random.Random = field(default_factory=random.SystemRandom)
    clock_ms: Callable[[], int] = wall_clock_ms  # wall clock: scheduled starts, events
    tables_supervisor: str = "tables"
    directory_name: str = DIRECTORY_NAME
    # Told after each step, once it is stored and performed (tests assert the invariants
    # here): (tournament id, the core, the step's effects).
    on_effects: Callable[[int, Tournament, list[fx.AnyEffect]], None] | None = None
    # Several nodes: the tournament's lease and fences (None: one process, no fences).
    lease: TournamentLease | None = None
    # Several nodes: placement of new tournaments, lobby lines shared, tells across nodes
    # (None: one process).
    room: TournamentRoom | None = None


def _player(player_id: str) -> int:
    return int(player_id)
