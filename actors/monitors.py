"""Monitors (Erlang's ``monitor/2``): learn that an actor ended, without polling the registry.

``context.monitor(ref)`` tells the monitoring actor ``Down(name, reason)`` once, when the
child slot behind ``ref`` is stopped for good (its ref goes dead). A restart is not an end:
the ref belongs to the slot and outlives its incarnations. Monitoring a ref that is already
dead delivers ``Down(name, "noproc")`` at once, as Erlang does. Code that is not an actor (the
admin API, a test) waits with ``await wait_down(ref)``.

A monitor belongs to the incarnation that set it, like a timer: it is removed when that
incarnation stops or crashes, so a restarted owner sets its monitors again in ``started()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, final

import msgspec
import trio

from actors.errors import CallerError

if TYPE_CHECKING:
    from actors.mailbox import ActorRef

# Bound: monitors watching one actor (a table watched by its owner, the lobby and the
# sessions of its seats and watchers). One more raises MonitorLimit in the caller.
MONITORS_PER_TARGET_MAX: Final = 16_384
# Bound: live monitors one actor incarnation holds (a tournament watching its tables).
MONITORS_PER_ACTOR_MAX: Final = 4_096

DownReason = Literal["normal", "crashed", "shutdown", "noproc"]


class MonitorLimit(CallerError):
    """Too many monitors on one target, or held by one actor."""


class Down(msgspec.Struct, frozen=True, tag=True):
    """The actor ``name`` ended for good. ``reason``: ``normal`` (it stopped itself, or a
    transient child exited), ``crashed`` (a temporary child crashed, or its supervisor gave
    up on it), ``shutdown`` (its supervisor stopped it) or ``noproc`` (it was already gone
    when the monitor was set). ``detail`` is the crash's text, when there was one."""

    name: str
    reason: DownReason
    detail: str = ""


class _Watcher(Protocol):
    def deliver(self, down: Down) -> None: ...


@final
class Monitor:
    """One monitor; ``cancel()`` (Erlang's ``demonitor``) is idempotent."""

    __slots__ = ("_owned_by", "_target", "_watcher")

    def __init__(self, target: ActorRef[Any], watcher: _Watcher) -> None:
        self._target: ActorRef[Any] | None = target
        self._watcher = watcher
        self._owned_by: set[Monitor] | None = None

    @property
    def active(self) -> bool:
        return self._target is not None

    def cancel(self) -> None:
        target = self._target
        if target is None:
            return
        self._target = None
        if target._monitors is not None:
            target._monitors.discard(self)
        if self._owned_by is not None:
            self._owned_by.discard(self)

    def _fire(self, down: Down) -> None:
        if self._target is None:
            return
        self._target = None
        if self._owned_by is not None:
            self._owned_by.discard(self)
        self._watcher.deliver(down)


@final
class _TellWatcher:
    """Delivers Down to an actor's mailbox (a dead watcher: a dead letter, as any tell)."""

    __slots__ = ("ref",)

    def __init__(self, ref: ActorRef[Any]) -> None:
        self.ref = ref

    def deliver(self, down: Down) -> None:
        self.ref.tell(down)


@final
class _EventWatcher:
    __slots__ = ("down", "event")

    def __init__(self) -> None:
        self.event = trio.Event()
        self.down: Down | None = None

    def deliver(self, down: Down) -> None:
        self.down = down
        self.event.set()


def add_monitor(target: ActorRef[Any], watcher: _Watcher) -> Monitor:
    """Watch ``target``; the runtime's one way to set a monitor (the context and
    ``wait_down`` call it)."""
    monitor = Monitor(target, watcher)
    if not target.alive:
        monitor._fire(Down(target.name, "noproc", target._dead_reason))
        return monitor
    if target._monitors is None:
        target._monitors = set()
    if len(target._monitors) >= MONITORS_PER_TARGET_MAX:
        raise MonitorLimit(f"{target.name}: more than {MONITORS_PER_TARGET_MAX} monitors")
    target._monitors.add(monitor)
    return monitor


def tell_monitor(target: ActorRef[Any], watcher: ActorRef[Any], owned: set[Monitor]) -> Monitor:
    if len(owned) >= MONITORS_PER_ACTOR_MAX:
        raise MonitorLimit(f"{watcher.name}: more than {MONITORS_PER_ACTOR_MAX} live monitors")
    monitor = add_monitor(target, _TellWatcher(watcher))
    if monitor.active:
        monitor._owned_by = owned
        owned.add(monitor)
    return monitor


def fire_monitors(target: ActorRef[Any], down: Down) -> None:
    """The slot behind ``target`` is gone for good: tell every watcher, once."""
    monitors = target._monitors
    if not monitors:
        return
    target._monitors = None
    for monitor in list(monitors):
        monitor._fire(down)


async def wait_down(ref: ActorRef[Any]) -> Down:
    """Wait until the actor behind ``ref`` ends for good (at once if it already has)."""
    watcher = _EventWatcher()
    monitor = add_monitor(ref, watcher)
    try:
        await watcher.event.wait()
    finally:
        monitor.cancel()
    assert watcher.down is not None
    return watcher.down
