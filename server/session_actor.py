"""Player sessions as actors of the runtime: ``session:<session id>``, temporary children of
the ``sessions`` supervisor.

A session actor lives as long as the logical session (across reconnects, through the grace
period), not as long as one websocket.

Pushes: tables and the lobby reach players through the gateway's ``deliver``, never an ask
(a game must not wait for a player's network), the body encoded once for all of the
player's sessions. When the session actor's mailbox is empty (always, but for a test or a
session ending) the push goes into the session at once, in the table's turn: numbered,
buffered (PlayerSession.push_encoded) and offered to whichever connection is attached, which
never blocks (its outbound queue is bounded: a client that does not read is dropped as a
slow consumer). Otherwise it is told to the actor as ``Deliver(body)`` behind what the
mailbox holds, so the session's events keep their order. Until issue 25's cut 4 every push
was told, which cost each recipient an actor turn (a task switch) per table message.

The session also holds which tables seat or show its player (``PlayerSession.tables``,
actors/table/player_tables.py): each table's word (``AtTable``) is noted in it at once by
the gateway, not queued (server/gateway.py ``note_table`` says why), and the session's
detach, resume and end reach exactly those tables (actors/table/requests.py).

Order: a request's reply follows the pushes it caused (a client that reads ``seated`` has
the table's snapshot already): before it replies to a game or tournament request, the
connection waits until the session's mailbox holds none of the pushes told before the reply
(``Flush``; nothing to wait for when the mailbox is empty, the common case).

Bounds: the mailbox holds SESSION_MAILBOX_MESSAGES_MAX messages; beyond that the overflow
policy is STOP: the session ends like a slow consumer (its connection is closed with
SLOW_CONSUMER, its seats are released as at a logout), never growth. The pushes the cleared
mailbox held are lost with it: the session is over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Final, final

import msgspec

from actors.addresses import SessionAddress
from actors.runtime import Actor, Overflow
from protocol.errors import CloseCode
from server.session import PlayerSession

if TYPE_CHECKING:
    from server.gateway import Gateway

SESSION_MAILBOX_MESSAGES_MAX: Final = 1024


@final
class Deliver(msgspec.Struct, frozen=True, tag=True):
    """Send ``body`` to the session's player as the next event: encoded once already
    (protocol.codec.encode_body), so that a broadcast to many sessions encodes it once
    (Gateway.deliver)."""

    body: msgspec.Raw


@final
class Flush(msgspec.Struct, frozen=True, tag=True):
    """Asked by the session's connection before a request's reply: answered once every
    push told before it is in the session (Gateway.pushes_done)."""


@final
class EndSession(msgspec.Struct, frozen=True, tag=True):
    """The session is over (logout, grace period ran out): stop."""


SessionMessage = Deliver | Flush | EndSession


def session_actor_name(session_id: str) -> str:
    return SessionAddress(session_id).actor_name


@final
class SessionActor(Actor[SessionMessage]):
    kind: ClassVar[str] = "session"
    mailbox_capacity: ClassVar[int] = SESSION_MAILBOX_MESSAGES_MAX
    mailbox_overflow: ClassVar[Overflow] = Overflow.STOP

    def __init__(self, gateway: Gateway, session: PlayerSession) -> None:
        self.gateway = gateway
        self.session = session

    async def handle(self, message: SessionMessage) -> object:
        match message:
            case Deliver(body=body):
                return self.session.push_encoded(body)
            case Flush():
                pass  # the mailbox is FIFO: what was told before it is pushed now
            case EndSession():
                self.context.stop()
        return None

    async def stopping(self, crash: BaseException | None) -> None:
        if crash is None:
            return  # EndSession: the gateway has ended the session already
        # Mailbox overflow or a bug: the session cannot keep its promises (every event, in
        # order), so it ends, and its connection is told why.
        outlet = self.session.outlet
        if outlet is not None and hasattr(outlet, "kill"):
            outlet.kill(CloseCode.SLOW_CONSUMER, "session overflowed")
        self.gateway.end_session(self.session)
