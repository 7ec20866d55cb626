"""Timers on trio's clock: tell an actor a message after a delay, cancellable.

One task per runtime serves every timer from a heap, sleeping until the earliest deadline (a
cancel scope whose deadline moves when an earlier timer arrives). So ten thousand session
actors with a ping timer each cost ten thousand heap entries, not ten thousand tasks, and
every test runs on ``autojump_clock``.
"""

from __future__ import annotations

import heapq
import itertools
import math
from typing import Any, Final, final

import trio

from actors.errors import CallerError, MailboxFull
from actors.mailbox import ActorRef

TIMERS_PER_ACTOR_MAX: Final = 256  # more live timers than this on one actor is a leak
COMPACT_CANCELLED_MIN: Final = 1024  # rebuild the heap when more than half of it is cancelled


@final
class TimerLimit(CallerError):
    """An actor tried to hold more than TIMERS_PER_ACTOR_MAX live timers."""


@final
class Timer:
    """One scheduled message. ``cancel()`` is idempotent and safe after it fired."""

    __slots__ = ("_owner", "_wheel", "active", "deadline", "message", "ref")

    def __init__(
        self,
        wheel: TimerWheel,
        deadline: float,
        ref: ActorRef[Any],
        message: object,
        owner: set[Timer] | None,
    ) -> None:
        self.deadline = deadline
        self.ref = ref
        self.message = message
        self.active = True  # false once fired or cancelled
        self._owner = owner
        self._wheel = wheel

    def cancel(self) -> None:
        if self.active:
            self._retire()
            self._wheel._note_cancelled()

    def _retire(self) -> None:
        self.active = False  # a cancelled heap entry is skipped when it comes up
        if self._owner is not None:
            self._owner.discard(self)


@final
class TimerWheel:
    """Fires due timers by telling their actor; run its ``run()`` in the runtime's nursery."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()  # ties fire in scheduling order
        self._sleep = trio.CancelScope(deadline=math.inf)
        # Cancelled entries still in the heap. A table re-arms its action timer on every
        # action, so without compaction the heap would hold every cancelled timer until its
        # deadline; above this share it is rebuilt.
        self._cancelled = 0

    def __len__(self) -> int:
        return len(self._heap)

    def send_after(
        self, delay_s: float, ref: ActorRef[Any], message: object, owner: set[Timer] | None = None
    ) -> Timer:
        if owner is not None and len(owner) >= TIMERS_PER_ACTOR_MAX:
            raise TimerLimit(f"{ref.name}: more than {TIMERS_PER_ACTOR_MAX} live timers")
        deadline = trio.current_time() + max(0.0, delay_s)
        timer = Timer(self, deadline, ref, message, owner)
        if owner is not None:
            owner.add(timer)
        heapq.heappush(self._heap, (deadline, next(self._seq), timer))
        if deadline < self._sleep.deadline:
            self._sleep.deadline = deadline
        return timer

    def _note_cancelled(self) -> None:
        self._cancelled += 1
        if self._cancelled > COMPACT_CANCELLED_MIN and 2 * self._cancelled > len(self._heap):
            self._heap[:] = [entry for entry in self._heap if entry[2].active]
            heapq.heapify(self._heap)
            self._cancelled = 0

    async def run(self) -> None:
        heap = self._heap
        while True:
            now = trio.current_time()
            while heap and (not heap[0][2].active or heap[0][0] <= now):
                _, _, timer = heapq.heappop(heap)
                if not timer.active:
                    self._cancelled -= 1
                else:
                    timer._retire()
                    try:
                        timer.ref.tell(timer.message)
                    except MailboxFull:  # a full BLOCK mailbox: a timer cannot wait, it drops
                        timer.ref.dropped += 1
            self._sleep = trio.CancelScope(deadline=heap[0][0] if heap else math.inf)
            with self._sleep:
                await trio.sleep_forever()
