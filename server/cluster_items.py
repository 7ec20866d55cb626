"""The items nodes of one room send each other over the node bus (msgpack, tagged, as
arrays): requests and replies, pushes, session events, table hand-overs and placements,
tournaments, lobby lines and listings, seeks (server/cluster_routing.py handles them;
docs/scaling.md, "Routing between nodes"). Pure definitions: no I/O.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal, final

import msgspec
from msgspec import Meta

from protocol import game
from protocol.limits import TABLES_OPEN_MAX

GONE_PER_BATCH_MAX: Final = 1_000  # players in one ``gone`` item
SEEK_PLAYERS_PER_ITEM_MAX: Final = 1_000
LISTINGS_PER_ITEM_MAX: Final = 200  # lobby listings (or removals) in one ``lst`` item


class _Item(msgspec.Struct, frozen=True, tag_field="k", array_like=True):
    pass


@final
class RouteRequest(_Item, frozen=True, tag="req"):
    rid: str  # "<node>:<n>": unique in the room
    player_id: int
    player: str
    address: str
    request: bytes  # msgpack of a protocol.game.GameRequest


@final
class RouteReply(_Item, frozen=True, tag="rep"):
    rid: str
    reply: bytes | None = None  # msgpack of a protocol.game.GameReply; None: ok
    code: str | None = None  # refused with this code
    message: str = ""
    retry_after_ms: int | None = None
    not_here: bool = False  # the node does not run that table (any more)


@final
class RoutePush(_Item, frozen=True, tag="push"):
    player_id: int
    body: bytes  # protocol.codec.encode_body's bytes


@final
class RouteGone(_Item, frozen=True, tag="gone"):
    player_ids: list[int]  # no session of these players here: stop pushing


@final
class RouteOpen(_Item, frozen=True, tag="open"):
    """A draining node hands a table over (docs/scaling.md, "Draining a node"): claim its
    lease and open it from its stored snapshot now. Answered by a RouteReply (ok: the table
    is open here or on another node that is not the sender)."""

    rid: str
    table_id: str


@final
class RouteCreate(_Item, frozen=True, tag="new"):
    """A new table placed on the receiving node (server/cluster_placement.py): open it as its
    own. Answered by a RouteReply (ok, or the refusal's code and message)."""

    rid: str
    config: bytes  # msgpack of an actors.table.config.TableConfig


@final
class RouteTournament(_Item, frozen=True, tag="tour"):
    """A request to a tournament on the receiving node (server/cluster_tournaments.py):
    ``message`` is the msgpack of one of the tournament messages that may cross nodes
    (``RoutedMessage`` there); ``player_id``: the player who asks (None: a director or the
    server), whose pushes then come to the sender. Answered by a RouteReply (``reply``: the
    tournament's answer, msgpack; ``not_here``: no such tournament runs there), unless
    ``tell``: no answer."""

    rid: str
    tournament_id: int
    message: bytes
    player_id: int | None = None
    timeout_ms: int = 10_000
    tell: bool = False


@final
class RouteSummary(_Item, frozen=True, tag="sum"):
    """A tournament's lobby line (msgpack of a TournamentSummary), shared by the directory
    of its node with the others' (no answer)."""

    summary: bytes


@final
class RouteListings(_Item, frozen=True, tag="lst"):
    """Cash-table lobby listings of the sender's tables (server/cluster_lobby.py; no
    answer): ``changed`` (msgpack of TableListing each: new or changed), ``removed`` (table
    ids no longer listed there), and ``held`` when the item ends a resend of the sender's
    whole set: every table it lists (the receiver drops its others)."""

    changed: Annotated[list[bytes], Meta(max_length=LISTINGS_PER_ITEM_MAX)] = []
    removed: Annotated[list[game.TableId], Meta(max_length=LISTINGS_PER_ITEM_MAX)] = []
    held: Annotated[list[game.TableId], Meta(max_length=TABLES_OPEN_MAX)] | None = None


@final
class RouteSeek(_Item, frozen=True, tag="seek"):
    """A table or tournament (``about``: its actor name, ``table:<id>`` or
    ``tournament:<id>``) that opened on the sender with these players and no route to them
    (a takeover, a drain's hand-over). A node holding a session of one of them answers with
    a RouteHook for her: ``resumed`` (a session with a connection: the table sends its state
    there) or ``held`` (only sessions waiting for a resume: her pushes wait there), unless
    that node still runs ``about`` itself: then it is a paused owner woken after the
    takeover, and its sessions of those players are stale."""

    about: str
    player_ids: Annotated[list[int], Meta(max_length=SEEK_PLAYERS_PER_ITEM_MAX)]


HookKind = Literal["detached", "ended", "resumed", "profile", "opened", "held"]


@final
class RouteHook(_Item, frozen=True, tag="hook"):
    kind: HookKind
    player_id: int
    player: str
    session_id: str
    display_name: str | None = None
    auto_muck: bool | None = None
    auto_post_blinds: bool | None = None


RouteItem = (
    RouteRequest
    | RouteReply
    | RoutePush
    | RouteGone
    | RouteHook
    | RouteOpen
    | RouteCreate
    | RouteTournament
    | RouteSummary
    | RouteListings
    | RouteSeek
)
ITEMS_WITH_RID: Final = frozenset({"req", "rep", "open", "new", "tour"})  # rid second
# What msgspec raises for bytes that are not what they should be: its errors (validation
# included), ValueError (a string that is not UTF-8 raises UnicodeDecodeError) and TypeError
# (an untyped decode of a map keyed by a map or a list: unhashable).
UNDECODABLE: Final = (msgspec.DecodeError, ValueError, TypeError)
encode: Final = msgspec.msgpack.Encoder().encode
item_decoder: Final = msgspec.msgpack.Decoder(RouteItem)
request_decoder: Final = msgspec.msgpack.Decoder(game.GameRequest)
reply_decoder: Final = msgspec.msgpack.Decoder(game.GameReply)
