"""Named addresses: ``table:42``, ``hand:42:1007``, ``session:<id>`` -> the live ActorRef.

A name is claimed when its child is first started and released when the child is stopped for
good (restarts keep the name and the ref). Names are global within one runtime, so they carry
their kind and id (``tournament:7:clock``), never a bare ``clock``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, final

from actors.errors import NameNotFound, NameTaken
from actors.mailbox import ActorRef

if TYPE_CHECKING:
    from actors.addresses import Address
    from actors.child import Child
    from actors.supervisor import Supervisor


@final
class Registry:
    # Bound: one entry per live registered child, so the supervisors' children_max bound it.

    def __init__(self) -> None:
        self._actors: dict[str, ActorRef[Any]] = {}
        self._supervisors: dict[str, Child] = {}

    def __len__(self) -> int:
        return len(self._actors) + len(self._supervisors)

    def __contains__(self, name: object) -> bool:
        return name in self._actors or name in self._supervisors

    def resolve(self, address: Address) -> ActorRef[Any] | None:
        """The live actor at ``address`` (actors/addresses.py), or None. Local refs only
        today; where a remote node's actors would be resolved once tables live elsewhere."""
        return self._actors.get(address.actor_name)

    def lookup(self, name: str) -> ActorRef[Any] | None:
        """The live actor registered as ``name``, or None."""
        return self._actors.get(name)

    def get(self, name: str) -> ActorRef[Any]:
        """The live actor registered as ``name``; NameNotFound if there is none."""
        try:
            return self._actors[name]
        except KeyError:
            raise NameNotFound(name) from None

    def supervisor(self, name: str) -> Supervisor:
        """The running supervisor registered as ``name`` (e.g. ``tables``, ``gateway``)."""
        child = self._supervisors.get(name)
        if child is None or child.supervisor is None:
            raise NameNotFound(name)
        return child.supervisor

    def names(self, prefix: str = "") -> list[str]:
        """Registered actor names starting with ``prefix``, sorted (``names("table:")``)."""
        return sorted(name for name in self._actors if name.startswith(prefix))

    def _check_free(self, name: str) -> None:
        if name in self:
            raise NameTaken(f"{name!r} is already registered")

    def _claim_actor(self, name: str, ref: ActorRef[Any]) -> None:
        self._check_free(name)
        self._actors[name] = ref

    def _claim_supervisor(self, name: str, child: Child) -> None:
        self._check_free(name)
        self._supervisors[name] = child

    def _release(self, name: str, owner: object) -> None:
        if self._actors.get(name) is owner:
            del self._actors[name]
        elif self._supervisors.get(name) is owner:
            del self._supervisors[name]
