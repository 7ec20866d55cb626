"""What the table's parts (running hands, delivery) read of the table actor that holds them:
its core (which a restart replaces, so parts never keep their own copy), its shared deps, its
stakes and its actor context. Each part's host protocol adds what that part alone needs.
"""

from __future__ import annotations

from typing import Any, Protocol

from actors.runtime import ActorContext
from actors.table.core import TableCore
from actors.table.deps import TableDeps
from actors.table.stakes import Stakes


class TableHost(Protocol):
    @property
    def core(self) -> TableCore: ...

    @property
    def deps(self) -> TableDeps: ...

    @property
    def stakes(self) -> Stakes: ...

    @property
    def context(self) -> ActorContext[Any]: ...
