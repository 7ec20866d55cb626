"""Addresses of actors, as values: ``TableAddress``, ``HandAddress``, ``SessionAddress``.

An address says *which* actor; the runtime's registry says *where* it lives
(``registry.resolve(address)``): a local ``ActorRef`` today, a remote one when tables live on
another node. Code names a table with ``TableAddress(table_id)``, never with a string built
in place (``f"table:{id}"`` was built in eight places), so the naming rule is written once,
here. Addresses are frozen msgspec Structs: they can cross a process boundary in a message.
"""

from __future__ import annotations

from typing import Final, Protocol, final

import msgspec

TABLE_PREFIX: Final = "table:"
SESSION_PREFIX: Final = "session:"
LOBBY_NAME: Final = "lobby"


class Address(Protocol):
    """What the registry resolves: anything that names one actor."""

    @property
    def actor_name(self) -> str: ...


@final
class TableAddress(msgspec.Struct, frozen=True):
    """The table ``table_id``: its actor ``table:<id>`` (the same string owns its escrow
    account in the ledger and names it in the audit log)."""

    table_id: str

    @property
    def actor_name(self) -> str:
        return TABLE_PREFIX + self.table_id


@final
class HandAddress(msgspec.Struct, frozen=True):
    """Hand ``number`` of the table ``table_id``: the table's child ``hand:<id>:<n>``."""

    table_id: str
    number: int

    @property
    def actor_name(self) -> str:
        return f"hand:{self.table_id}:{self.number}"


@final
class SessionAddress(msgspec.Struct, frozen=True):
    """A player's session actor ``session:<session id>`` (server/session_actor.py)."""

    session_id: str

    @property
    def actor_name(self) -> str:
        return SESSION_PREFIX + self.session_id


@final
class LobbyAddress(msgspec.Struct, frozen=True):
    """The one lobby of a node."""

    @property
    def actor_name(self) -> str:
        return LOBBY_NAME


LOBBY: Final = LobbyAddress()
