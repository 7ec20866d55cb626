"""Typed errors of the actor runtime, split by fault.

- Caller's fault (``CallerError``): the sender used the runtime wrongly or too fast, e.g. a
  ``tell`` into a full block-the-sender mailbox, a name that is already taken.
- Target's fault (``TargetError``): the actor asked is dead, crashed while answering, was too
  slow, or dropped the request; the asker decides what to do (retry, give up, error frame).
- Supervision (``SupervisorEscalation``): a supervisor exceeded its restart intensity; it
  stopped its children and fails to its own parent, which counts it as a crash of that child.
"""

from __future__ import annotations

from typing import final


class ActorError(Exception):
    """Base of every error the runtime raises on purpose."""


class CallerError(ActorError):
    """The caller used the runtime wrongly; fix the caller."""


class TargetError(ActorError):
    """The target actor could not answer; the caller survives and decides."""

    def __init__(self, name: str, detail: str = "") -> None:
        self.name = name
        self.detail = detail
        super().__init__(f"{name}: {detail}" if detail else name)


@final
class ActorDead(TargetError):
    """The actor has stopped for good (or stopped before it answered this request)."""


@final
class AskTimeout(TargetError):
    """No reply within the ask's timeout. The actor may still process the request later."""


@final
class ActorCrashed(TargetError):
    """The handler raised while processing this very request; the actor crashed with it."""


@final
class AskDropped(TargetError):
    """A drop-oldest mailbox was full and discarded this request to make room."""


@final
class MailboxFull(CallerError):
    """``tell`` into a full block-the-sender mailbox; internal producers use ``await send``."""


@final
class MailboxOverflow(ActorError):
    """Crash reason of an actor whose stop-the-actor mailbox overflowed."""


@final
class NameTaken(CallerError):
    """A registry name (``table:42``) is already held by a live actor."""


@final
class NameNotFound(CallerError):
    """No live actor or supervisor holds this name."""


@final
class ChildNotFound(CallerError):
    """``stop_child`` or a lookup named a child this supervisor does not have."""


@final
class SupervisorFull(CallerError):
    """``start_child`` beyond the supervisor's ``children_max``."""


@final
class SupervisorStopped(CallerError):
    """``start_child`` on a supervisor that is not running (stopped, or shutting down)."""


@final
class SupervisorEscalation(ActorError):
    """More than ``intensity`` restarts within ``period_s``: the supervisor gave up.

    Raised out of the supervisor's ``run()``; its parent treats it as a crash of that child.
    ``__cause__`` is the last child crash.
    """

    def __init__(self, supervisor: str, child: str, restarts: int, period_s: float) -> None:
        self.supervisor = supervisor
        self.child = child
        super().__init__(
            f"supervisor {supervisor!r}: child {child!r} pushed it past {restarts} restarts"
            f" within {period_s} s"
        )
