"""Reads that may lag go to a real streaming replica; its lag or failure changes no answer that
matters, only latency (docs/storage.md "Read replicas").

The replica is the one scripts/ensure-services.sh makes (127.0.0.1:5433, the ``replica_url``
fixture). Failures are made with a TCP proxy in front of it, so the replica itself keeps
serving other tests; lag is made by pausing its replay, always resumed in a ``finally``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Literal, final
from urllib.parse import urlsplit, urlunsplit

import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from persistence.hands import HandRecord
from persistence.postgres import PostgresStore
from persistence.replica import REPLICA_TIMEOUT_S, ReplicaHealth, ReplicaLag, parse_lsn
from persistence.store import Store, open_store
from persistence.work import Query, Work
from services.leaderboards import Leaderboards
from services.ledger import wallet
from services.player_stats import stats_view
from services.wallet import Wallet
from tests.persistence.stores import DAY_MS, ManualClock, store_url
from tests.players.hands import hand_record, simulated_hand

# Pausing the replica's replay lags it for everyone: its tests run one at a time, on one
# xdist worker (make test runs the suite on two).
pytestmark = pytest.mark.xdist_group("replica")

# The fixture's bound on the replica's lag: far above what any test here pauses for, except
# the one about the bound, which lowers it on its own store.
LAG_BOUND_MS = 60_000
REPLAY_WAIT_S = 20.0  # bound: a committed change reaches the replica by then, or the test fails
POLL_S = 0.02


def _hand(hand_id: str, ended_at_ms: int) -> HandRecord:
    """A played hand of players 1 and 2 (statistics count it, as a table's would be)."""
    return hand_record(simulated_hand(7, [1, 2], hand_id=hand_id, ended_at_ms=ended_at_ms))


def _today(store: Store) -> tuple[int, int]:
    """A statement's period around the store's (manual) clock: the day up to now."""
    now_ms = store.clock_ms()
    return now_ms - DAY_MS, now_ms + 1


def _on(url: str, server_url: str) -> str:
    """``url`` (a database and its search_path) as served by ``server_url``'s host and port."""
    return urlunsplit(urlsplit(url)._replace(netloc=urlsplit(server_url).netloc))


def _admin(server_url: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path="/postgres"))


ProxyMode = Literal["pass", "refuse", "stall"]


@final
class Proxy:
    """A TCP proxy to the replica that a test can make refuse (as a stopped server does) or
    stall (accept and answer nothing, as an overloaded or partitioned one does)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.mode: ProxyMode = "pass"
        self._links: set[trio.CancelScope] = set()

    def set(self, mode: ProxyMode) -> None:
        self.mode = mode
        if mode != "pass":
            for scope in self._links:  # pooled connections break too
                scope.cancel()

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        task_status.started()
        await trio.serve_listeners(self._link, listeners)

    async def _link(self, client: trio.SocketStream) -> None:
        async with client:
            if self.mode == "refuse":
                return
            if self.mode == "stall":
                await trio.sleep_forever()
            with trio.CancelScope() as scope:
                self._links.add(scope)
                try:
                    server = await trio.open_tcp_stream("127.0.0.1", self.target_port)
                    async with server, trio.open_nursery() as nursery:
                        nursery.start_soon(_pump, client, server)
                        nursery.start_soon(_pump, server, client)
                finally:
                    self._links.discard(scope)


async def _pump(source: trio.SocketStream, sink: trio.SocketStream) -> None:
    try:
        async for chunk in source:
            await sink.send_all(chunk)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    finally:
        await sink.aclose()


def _sql(sql: str, *args: object) -> Work[object]:
    rows = yield Query(sql, args)
    return rows[0][0]


async def _until(read: Callable[[], Awaitable[object]], wanted: object) -> None:
    """Poll another server's state (there is no event to wait on), bounded by REPLAY_WAIT_S."""
    with trio.fail_after(REPLAY_WAIT_S):
        while True:
            if await read() == wanted:
                return
            await trio.sleep(POLL_S)


@final
class Replication:
    """The primary's and the replica's positions, read on connections of their own."""

    def __init__(self, primary: Store, replica: Store) -> None:
        self.primary = primary
        self.replica = replica

    async def caught_up(self) -> str:
        """Wait (bounded) until the replica has replayed everything committed so far; the
        primary's position it has replayed."""
        lsn = str(await self.primary.run(lambda: _sql("SELECT pg_current_wal_lsn()::text")))
        sql = "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn"
        await _until(lambda: self.replica.run(lambda: _sql(sql, lsn), read_only=True), True)
        return lsn

    @asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        """The replica replays nothing inside (it still receives), and always resumes after."""
        await self.caught_up()
        try:
            await self.replica.run(lambda: _sql("SELECT pg_wal_replay_pause()::text"))
            state = "SELECT pg_get_wal_replay_pause_state()"
            await _until(lambda: self.replica.run(lambda: _sql(state), read_only=True), "paused")
            yield
        finally:
            with trio.CancelScope(shield=True):
                await self.replica.run(lambda: _sql("SELECT pg_wal_replay_resume()::text"))


@contextmanager
def _routed(store: Store) -> Iterator[ReplicaHealth]:
    assert isinstance(store, PostgresStore) and store.replica is not None
    yield store.replica


async def _listed(store: Store) -> list[str]:
    return [h.hand_id for h in await store.hands_by_player(1, may_lag=True)]


async def _served(store: Store, replica: ReplicaHealth, wanted: list[str]) -> None:
    """Poll until the replica itself answered the listing with ``wanted``. Within the 0.2 s
    bound of a test it serves only just after a lag probe (one a second): on a loaded machine
    a probe that took longer than the bound makes the primary answer instead, so a listing
    equal to ``wanted`` alone does not say the replica served it."""
    with trio.fail_after(REPLAY_WAIT_S):
        while True:
            served = replica.served
            listed = await _listed(store)
            if replica.served > served:
                assert listed == wanted  # whatever the replica answers is what is wanted
                return
            await trio.sleep(POLL_S)


async def _lag_known(store: Store, replication: Replication) -> None:
    """What a lag probe would record on seeing the replica caught up (the replica's own pool
    stays unused, so the tests start with no connection of it open)."""
    assert isinstance(store, PostgresStore) and store.replica_lag is not None
    position = parse_lsn(await replication.caught_up())
    store.replica_lag.noted(position)
    store.replica_lag.replayed(position)


@pytest.fixture
async def stores(
    tmp_path: Path, postgres_url: str, replica_url: str, nursery: trio.Nursery
) -> AsyncIterator[tuple[Store, Replication, Proxy]]:
    """A store whose replica is reached through a proxy, and the replication's controls."""
    url = await store_url("postgres", tmp_path, postgres_url)
    proxy = Proxy(urlsplit(replica_url).port or 5433)
    await nursery.start(proxy.serve)
    via_proxy = _on(url, f"postgresql://tablium:tablium@127.0.0.1:{proxy.port}")
    async with (
        open_store(
            url, clock_ms=ManualClock(), replica_url=via_proxy, replica_max_lag_ms=LAG_BOUND_MS
        ) as store,
        open_store(url, migrate=False, pool_size=1) as primary,
        # Replay controls are cluster-wide, and granted to the test role in "postgres" only.
        open_store(_admin(replica_url), migrate=False, pool_size=1) as replica,
    ):
        replication = Replication(primary, replica)
        # The schema and its migrations reach the replica before any read.
        await _lag_known(store, replication)
        yield store, replication, proxy


async def test_a_committed_hand_is_read_from_the_replica_once_it_caught_up(
    stores: tuple[Store, Replication, Proxy],
) -> None:
    store, replication, _ = stores
    assert await store.save_hand(_hand("h1", 1_000))
    await replication.caught_up()
    with _routed(store) as replica:
        listed = await store.hands_by_player(1, may_lag=True)
        record = await store.get_hand("h1", may_lag=True)
        assert (replica.served, replica.fallbacks) == (2, 0)
    assert [h.hand_id for h in listed] == ["h1"] and listed == await store.hands_by_player(1)
    assert record is not None and record == await store.get_hand("h1")


async def test_a_statement_is_read_from_the_replica_and_equals_the_primary(
    stores: tuple[Store, Replication, Proxy],
) -> None:
    store, replication, _ = stores
    w = Wallet(store)
    await w.adjust("seed1", wallet(1), 1_000, memo="")
    await w.move("move1", "player_transfer", wallet(1), wallet(2), 300)
    await replication.caught_up()
    with _routed(store) as replica:
        statement = await w.statement(1, *_today(store))
        assert (replica.served, replica.fallbacks) == (3, 0)  # opening, totals, entries
    assert (statement.opening_balance, statement.closing_balance) == (0, 700)
    assert [e.amount for e in statement.entries] == [1_000, -300]


async def test_statistics_and_leaderboards_are_read_from_the_replica(
    stores: tuple[Store, Replication, Proxy],
) -> None:
    store, replication, _ = stores
    assert await store.save_hand(_hand("h1", 1_000))
    await replication.caught_up()
    boards = Leaderboards(store)  # no Redis: the database answers
    with _routed(store) as replica:
        view = await stats_view(store, 1, audience="self")
        top = await boards.top("xp", "daily", 10, 1_000)
        rank = await boards.rank("xp", "daily", 1, 1_000)
        assert (replica.served, replica.fallbacks) == (6, 0)  # 4 for the view, 1 each board
    assert view.stakes and top.entries and rank is not None  # the hand was counted
    primary = replication.primary  # the same database, no replica
    assert view == await stats_view(primary, 1, audience="self")
    assert top == await Leaderboards(primary).top("xp", "daily", 10, 1_000)
    assert rank == await Leaderboards(primary).rank("xp", "daily", 1, 1_000)


async def test_a_refusing_replica_changes_no_answer_and_rests_after_one_try(
    stores: tuple[Store, Replication, Proxy],
) -> None:
    store, replication, proxy = stores
    assert await store.save_hand(_hand("h1", 1_000))
    await replication.caught_up()
    expected = await store.hands_by_player(1)
    with _routed(store) as replica:
        assert await store.hands_by_player(1, may_lag=True) == expected  # pools a connection
        proxy.set("refuse")
        assert await store.hands_by_player(1, may_lag=True) == expected  # tried, fell back
        assert not replica.up and replica.fallbacks == 1
        assert await store.get_hand("h1", may_lag=True) == await store.get_hand("h1")
        assert replica.fallbacks == 2  # resting: the primary answered without a try
        assert replica.served == 1


async def test_a_stalled_replica_is_abandoned_after_its_bound(
    stores: tuple[Store, Replication, Proxy],
) -> None:
    store, replication, proxy = stores
    assert await store.save_hand(_hand("h1", 1_000))
    await replication.caught_up()
    proxy.set("stall")
    with _routed(store) as replica:
        started = trio.current_time()
        assert [h.hand_id for h in await store.hands_by_player(1, may_lag=True)] == ["h1"]
        waited = trio.current_time() - started
        assert not replica.up and (replica.served, replica.fallbacks) == (0, 1)
    assert REPLICA_TIMEOUT_S <= waited < REPLICA_TIMEOUT_S + 5  # latency, never the answer


async def test_a_lagging_replica_lags_only_where_allowed_and_money_reads_the_primary(
    stores: tuple[Store, Replication, Proxy],
) -> None:
    store, replication, _ = stores
    w = Wallet(store)
    await w.adjust("seed1", wallet(1), 1_000, memo="")
    assert await store.save_hand(_hand("h1", 1_000))
    async with replication.paused():  # within the fixture's bound on lag for the whole test
        assert await store.save_hand(_hand("h2", 2_000))
        await w.move("move1", "player_transfer", wallet(1), wallet(2), 300)
        with _routed(store) as replica:
            # Lists that may lag: the replica has not replayed h2 nor the transfer yet.
            assert [h.hand_id for h in await store.hands_by_player(1, may_lag=True)] == ["h1"]
            statement = await w.statement(1, *_today(store))
            assert statement.closing_balance == 1_000 and len(statement.entries) == 1
            # A hand asked for by id is never unknown: the replica's miss asks the primary.
            assert await store.get_hand("h2", may_lag=True) == await store.get_hand("h2")
            served = replica.served
            # Money: balances and what decides a transfer read the primary only.
            assert (await w.balance(1)).balance == 700
            assert (await w.balance(2)).balance == 300
            assert replica.served == served and replica.fallbacks == 0
    await replication.caught_up()
    assert [h.hand_id for h in await store.hands_by_player(1, may_lag=True)] == ["h2", "h1"]
    assert (await w.statement(1, *_today(store))).closing_balance == 700


async def test_a_replica_further_behind_than_its_bound_is_skipped_until_it_caught_up(
    stores: tuple[Store, Replication, Proxy],
) -> None:
    store, replication, _ = stores
    assert isinstance(store, PostgresStore) and store.replica_lag is not None
    lag = store.replica_lag
    lag.max_lag_s = 0.2
    assert await store.save_hand(_hand("h1", 1_000))
    await replication.caught_up()
    with _routed(store) as replica:
        await _served(store, replica, ["h1"])  # the replica has it, and serves it
        assert lag.behind_s() is not None
        async with replication.paused():
            assert await store.save_hand(_hand("h2", 2_000))

            # Stale while within its bound, then past it the primary answers, fresh.
            await _until(lambda: _listed(store), ["h2", "h1"])
            behind = lag.behind_s()
            assert behind is not None and behind > lag.max_lag_s
            assert replica.up and replica.fallbacks >= 1  # lagging is not a failure
            lagging = REGISTRY.get_sample_value(
                "tablium_db_replica_fallbacks_total", {"reason": "lagging"}
            )
            assert lagging is not None and lagging >= 1
        # Replay resumed: once a probe sees it caught up, the replica serves again.
        await replication.caught_up()
        await _served(store, replica, ["h2", "h1"])


def test_the_replica_rests_for_its_backoff_then_is_tried_again() -> None:
    now = [100.0]
    health = ReplicaHealth(lambda: now[0], backoff_s=5.0)
    assert health.up and health.usable()
    health.failed("timeout")
    assert not health.up and not health.usable()
    now[0] += 4.9
    assert not health.usable()
    now[0] += 0.1
    assert health.usable() and not health.up  # the next read tries it again
    health.succeeded()
    assert health.up and (health.served, health.fallbacks) == (1, 1)


Step = tuple[Literal["wait", "fail", "ok", "skip"], float]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["wait", "fail", "ok", "skip"]), st.floats(0.0, 10.0, allow_nan=False)
        ),
        max_size=40,
    )
)
def test_the_replica_is_usable_exactly_when_no_backoff_is_running(steps: list[Step]) -> None:
    now = [0.0]
    health = ReplicaHealth(lambda: now[0], backoff_s=5.0)
    failed_at: float | None = None
    counts = [0, 0]  # served, fallbacks
    for step, seconds in steps:
        if step == "wait":
            now[0] += seconds
        elif step == "fail":
            health.failed("error")
            failed_at, counts[1] = now[0], counts[1] + 1
        elif step == "ok":
            health.succeeded()
            failed_at, counts[0] = None, counts[0] + 1
        else:
            health.resting()
            counts[1] += 1
        assert health.up == (failed_at is None)
        assert health.usable() == (failed_at is None or now[0] >= failed_at + 5.0)
        assert [health.served, health.fallbacks] == counts


async def test_sqlite_refuses_a_replica(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        async with open_store(
            f"sqlite:///{tmp_path / 'x.sqlite3'}", replica_url="postgresql://h/db"
        ):
            pass


def test_an_unknown_lag_counts_as_too_far_and_a_probe_that_sees_replay_clears_it() -> None:
    now = [50.0]
    lag = ReplicaLag(lambda: now[0], max_lag_s=5.0, probe_every_s=1.0)
    assert lag.probe_due() and lag.too_far() and lag.behind_s() is None
    lag.noted(parse_lsn("0/100"))
    lag.replayed(parse_lsn("0/FF"))  # short of the note: still unknown
    assert lag.too_far() and lag.probe_due()  # probed at every read while unknown
    now[0] += 1.0
    lag.noted(parse_lsn("0/200"))
    lag.replayed(parse_lsn("0/180"))  # past the first note (t=50), short of the second
    assert lag.behind_s() == 1.0 and not lag.too_far()
    now[0] += 5.5
    assert lag.too_far()  # no probe has seen it pass anything newer since t=50
    lag.noted(parse_lsn("0/200"))
    lag.replayed(None)  # not a standby: it replays nothing and lags nothing
    assert lag.behind_s() == 0.0
    assert parse_lsn("16/B374D848") == (0x16 << 32) | 0xB374D848


@given(
    st.lists(
        st.tuples(st.floats(0.0, 3.0, allow_nan=False), st.integers(0, 50), st.booleans()),
        max_size=40,
    )
)
def test_the_lag_bound_is_never_below_the_true_lag(steps: list[tuple[float, int, bool]]) -> None:
    """The primary writes, the replica replays some of it later; whenever the bound is
    known it is at least the true lag (unknown counts as too far): now minus the last time
    the primary's position was one the replica has replayed."""
    now = [0.0]
    lag = ReplicaLag(lambda: now[0], max_lag_s=1.0, probe_every_s=0.0)
    history = [(0.0, 0)]  # (time, the primary's position from then on)
    replayed = 0
    for wait_s, replay, write in steps:
        now[0] += wait_s
        if write:
            history.append((now[0], history[-1][1] + 1))
        primary = history[-1][1]
        replayed = min(primary, replayed + replay)
        lag.noted(primary)
        lag.replayed(replayed)
        # Truly caught up until the first write the replica has not replayed.
        unreplayed = [at for at, position in history if position > replayed]
        true_lag = now[0] - unreplayed[0] if unreplayed else 0.0
        bound = lag.behind_s()
        if bound is None:  # unknown: nothing noted has been replayed, and counts as too far
            assert lag.too_far()
        else:
            assert bound >= true_lag - 1e-9
