"""Player sessions as actors of the runtime: ``session:<session id>``, temporary children of
the ``sessions`` supervisor.

A session actor lives as long as the logical session (across reconnects, through the grace
period), not as long as one websocket. Tables reach players with ``ref.tell(Push(body))``,
never ask: a game must not wait for a player's network. The actor numbers and buffers the
event (PlayerSession.push) and hands it to whichever connection is attached.

Bounds: the mailbox holds SESSION_MAILBOX_MESSAGES_MAX pushes; beyond that the overflow
policy is STOP (the session is dropped, like a slow consumer), never growth.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Final, final

import msgspec

from actors.addresses import SessionAddress
from actors.runtime import Actor, Overflow
from protocol.errors import CloseCode
from protocol.messages import PushBody
from server.session import PlayerSession

if TYPE_CHECKING:
    from server.gateway import Gateway

SESSION_MAILBOX_MESSAGES_MAX: Final = 1024


@final
class Push(msgspec.Struct, frozen=True, tag=True):
    """Send ``body`` to the session's player as the next event."""

    body: PushBody


@final
class EndSession(msgspec.Struct, frozen=True, tag=True):
    """The session is over (logout, grace period ran out): stop."""


SessionMessage = Push | EndSession


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
        if isinstance(message, Push):
            return self.session.push(message.body)
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
