"""Play money, limits, exclusions, statements and transfer settings over the protocol, on the
real ledger (SQLite): the gateway only translates, each refusal is its own code."""

from __future__ import annotations

import random
from pathlib import Path

import msgspec
import pytest
from trio_websocket import open_websocket_url

from protocol.client import ServerError, open_client
from protocol.codec import encode
from protocol.errors import ERROR_CODE_VALUES, ErrorCode
from protocol.messages import (
    Error,
    Event,
    Hello,
    LoggedIn,
    Register,
    SelfExclude,
    WalletDeposit,
    WalletStatement,
    WalletTransfer,
    Welcome,
)
from server.gateway import GatewayLimits
from services.ledger import wallet
from services.play_money import PlayMoneyPolicy
from services.wallet import Wallet, WalletPolicy
from tests.protocol.gateway_harness import PASSWORD, decode, gateway_and_store, running_gateway
from tests.server.test_gateway_wallet import CHAIN

HOUR_MS = 3_600_000


async def test_a_new_player_has_play_money_and_claims_a_refill_when_below(
    tmp_path: Path,
) -> None:
    policy = WalletPolicy(
        play=PlayMoneyPolicy(starting_balance=3_000, refill_below=100, refill_amount=1_000)
    )
    async with (
        gateway_and_store(tmp_path, wallet_policy=policy) as (gateway, store),
        open_client(gateway.url) as alice,
    ):
        await alice.register("alice", PASSWORD)
        play = await alice.balance("play")
        assert (play.balance, play.available, play.asset) == (3_000, 3_000, "play")
        assert (await alice.balance()).balance == 0  # no real money for nothing
        with pytest.raises(ServerError) as refused:
            await alice.claim_play_chips()
        assert refused.value.code == ErrorCode.REFILL_NOT_NEEDED
        account = await store.get_account_by_name("alice")
        assert account is not None
        # Lose it at a play-money table (the table's side, through the wallet service).
        await Wallet(store).buy_in("seat", account.id, "table:play", 2_950, asset="play")
        refill = await alice.claim_play_chips()
        assert (refill.amount, refill.state, refill.asset) == (1_000, "posted", "play")
        await Wallet(store).buy_in("seat2", account.id, "table:play", 1_000, asset="play")
        with pytest.raises(ServerError) as early:
            await alice.claim_play_chips()
        assert early.value.code == ErrorCode.REFILL_TOO_EARLY
        assert early.value.retry_after_ms is not None
        assert 0 < early.value.retry_after_ms <= 24 * HOUR_MS
        assert (await alice.balance("play")).balance == 50


async def test_limits_lower_at_once_raise_later_and_refuse_a_second_raise(
    tmp_path: Path,
) -> None:
    async with running_gateway(tmp_path) as gateway, open_client(gateway.url) as alice:
        await alice.register("alice", PASSWORD)
        limits = await alice.set_limits({"daily_deposit_max": 100, "session_minutes_max": 90})
        assert (limits.limits.daily_deposit_max, limits.limits.session_minutes_max) == (100, 90)
        raised = await alice.set_limits({"daily_deposit_max": 500})
        assert raised.limits.daily_deposit_max == 100
        assert [(p.limit, p.value) for p in raised.pending] == [("daily_deposit_max", 500)]
        with pytest.raises(ServerError) as pending:
            await alice.set_limits({"daily_deposit_max": 900})
        assert pending.value.code == ErrorCode.LIMIT_RAISE_PENDING
        assert pending.value.retry_after_ms is not None
        # The deposit limit applies where deposits are credited: the chain watcher holds one
        # over it (tests/chain/test_watcher.py).
        assert (await alice.limits()).limits.daily_deposit_max == 100


async def test_a_self_excluded_player_cannot_deposit_and_cannot_shorten_it(
    tmp_path: Path,
) -> None:
    async with (
        running_gateway(tmp_path, chain=CHAIN) as gateway,
        open_client(gateway.url) as alice,
    ):
        await alice.register("alice", PASSWORD)
        excluded = await alice.self_exclude("self_exclusion", 183)
        assert excluded.exclusion is not None and excluded.exclusion.kind == "self_exclusion"
        for message, code in (
            (WalletDeposit(id=0), ErrorCode.SELF_EXCLUDED),
            (SelfExclude(id=0, kind="cool_off", days=7), ErrorCode.EXCLUSION_CANNOT_BE_SHORTENED),
            (SelfExclude(id=0, kind="self_exclusion", days=100), ErrorCode.INVALID_EXCLUSION),
        ):
            with pytest.raises(ServerError) as refused:
                await alice.request(message)
            assert refused.value.code == code
        still = await alice.limits()
        assert still.exclusion == excluded.exclusion


async def test_a_cooling_off_player_is_told_so(tmp_path: Path) -> None:
    async with (
        running_gateway(tmp_path, chain=CHAIN) as gateway,
        open_client(gateway.url) as alice,
    ):
        await alice.register("alice", PASSWORD)
        await alice.self_exclude("cool_off", 1)
        with pytest.raises(ServerError) as refused:
            await alice.deposit_address()
        assert refused.value.code == ErrorCode.COOLING_OFF


async def test_a_statement_over_the_protocol(tmp_path: Path) -> None:
    async with (
        gateway_and_store(tmp_path) as (gateway, store),
        open_client(gateway.url) as alice,
        open_client(gateway.url) as bob,
    ):
        await alice.register("alice", PASSWORD)
        await bob.register("bob", PASSWORD)
        account = await store.get_account_by_name("alice")
        assert account is not None
        await Wallet(store).adjust("funds", wallet(account.id), 1_000, memo="test")
        await alice.transfer("bob", 300, key="t1")
        now_ms = store.clock_ms()
        statement = await alice.statement(now_ms - HOUR_MS, now_ms + 1)
        assert (statement.opening_balance, statement.closing_balance) == (0, 700)
        assert [(t.kind, t.credited, t.debited) for t in statement.totals] == [
            ("adjustment", 1_000, 0),
            ("player_transfer", 0, 300),
        ]
        assert [e.amount for e in statement.entries] == [1_000, -300]
        play = await alice.statement(now_ms - HOUR_MS, now_ms + 1, asset="play")
        assert play.closing_balance == 10_000  # the starting balance
        with pytest.raises(ServerError) as refused:
            await alice.request(WalletStatement(id=0, from_ms=5, to_ms=5))
        assert refused.value.code == ErrorCode.INVALID_PERIOD


async def test_transfers_answer_transfers_disabled_when_the_operator_has_not_enabled_them(
    tmp_path: Path,
) -> None:
    policy = WalletPolicy(transfers_enabled=False)
    async with (
        gateway_and_store(tmp_path, wallet_policy=policy) as (gateway, _store),
        open_client(gateway.url) as alice,
    ):
        await alice.register("alice", PASSWORD)
        for name in ("bob", "alice"):
            with pytest.raises(ServerError) as refused:
                await alice.request(WalletTransfer(id=0, to_player=name, amount=1, key="k"))
            assert refused.value.code == ErrorCode.TRANSFERS_DISABLED


CORPUS = [
    {"type": "set_limits", "id": 1, "changes": {"daily_deposit_max": 10}},
    {"type": "self_exclude", "id": 2, "kind": "cool_off", "days": 1},
    {"type": "wallet_statement", "id": 3, "from_ms": 0, "to_ms": 1},
    {"type": "claim_play_chips", "id": 4},
    {"type": "get_limits", "id": 5},
    {"type": "wallet_balance", "id": 6, "asset": "play"},
]
FUZZED_FRAMES = 400
VALUES: list[object] = [
    None, True, -1, 0, 1, 7, 42, 43, 183, 3653, 3654, 2**53, 2**63 - 1, 1.5, "", "x" * 300,
    "play", "chips", "gold", "cool_off", "self_exclusion", [], {}, {"daily_loss_max": -1},
    {"nope": 1}, {"session_minutes_max": 0}, {"weekly_loss_max": None},
    {f"k{i}": i for i in range(20)},
]  # fmt: skip


async def test_fuzzed_wallet_requests_get_a_reply_or_a_documented_code_and_keep_the_ledger(
    tmp_path: Path,
) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    print(f"seed {seed}")
    counts: dict[str, int] = {}
    limits = GatewayLimits(
        rate_burst_requests=2 * FUZZED_FRAMES,
        rate_refill_per_s=2 * FUZZED_FRAMES,
        rate_ip_burst_requests=2 * FUZZED_FRAMES,
        rate_ip_refill_per_s=2 * FUZZED_FRAMES,
    )
    async with (
        gateway_and_store(tmp_path, limits=limits) as (gateway, store),
        open_websocket_url(gateway.url) as ws,
    ):
        await ws.send_message(encode(Hello(id=1, versions=[1])))
        assert isinstance(decode(await ws.get_message()), Welcome)
        await ws.send_message(encode(Register(id=2, name="fuzzed", password=PASSWORD)))
        assert isinstance(decode(await ws.get_message()), LoggedIn)
        for n in range(FUZZED_FRAMES):
            fields = dict(rng.choice(CORPUS))
            for _ in range(rng.randrange(1, 3)):
                key = rng.choice([*fields, "changes", "days", "kind", "asset", "zzz"])
                if key != "type":
                    fields[key] = rng.choice(VALUES)
            fields["id"] = 10 + n
            await ws.send_message(msgspec.msgpack.encode(fields))
            reply = decode(await ws.get_message())
            assert not isinstance(reply, Event) and reply.id == 10 + n, (seed, reply)
            name = f"error:{reply.code}" if isinstance(reply, Error) else type(reply).__name__
            counts[name] = counts.get(name, 0) + 1
        print(f"seed {seed}: {counts}")
        codes = {name.removeprefix("error:") for name in counts if name.startswith("error:")}
        assert codes <= ERROR_CODE_VALUES, (seed, counts)
        assert {"Limits", "Statement", "error:invalid_message"} <= set(counts), (seed, counts)
        assert "error:rate_limited" not in counts, counts
        assert gateway.session_crashes == 0, (seed, counts)
        audit = await store.ledger_audit()
        assert audit.consistent, audit
