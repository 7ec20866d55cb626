"""The cashier inside a whole server (run_server) against Anvil on loopback: the [chain]
settings start the watcher and the batcher under ``services``; a player gets her deposit
address over the websocket, pays on chain, and sees the chips; she withdraws over the public
API and is paid on chain; staff see both on the admin API. The ledger audit holds after.

The actors run on their own timers against a real node, so the test waits for outcomes with
a bounded poll (``eventually``), never a fixed sleep."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import trio
from prometheus_client.parser import text_string_to_metric_families
from web3 import Web3
from web3.providers import HTTPProvider

from protocol.client import ServerError, open_client
from protocol.errors import ErrorCode
from server.app import Listening, check_chain_settings, run_server
from server.auth import TokenSigner
from server.config import ConfigError, Settings, load_settings
from services.chain.devnode import anvil
from services.chain.settings import ChainSettings
from tests.chain.evm import Evm, deploy
from tests.deploy.test_metric_names import CHAIN_PREFIX, family_of, referenced

pytestmark = pytest.mark.slow

JWT_SECRET = "chain-wiring-secret-" + "z" * 40
PASSWORD = "correct horse battery"
WAIT_S = 30.0  # bound on any one outcome the actors must reach (Anvil mines on demand)
T = TypeVar("T")


@pytest.fixture
def node() -> Iterator[str]:
    with anvil() as url:
        yield url


@pytest.fixture
def chain(node: str) -> Evm:
    return deploy(Web3(HTTPProvider(node, request_kwargs={"timeout": 10})))


def operator_key_file(tmp_path: Path, key: str, name: str = "operator.key") -> Path:
    path = tmp_path / name
    path.write_text(key + "\n")
    os.chmod(path, 0o600)
    return path


@asynccontextmanager
async def whole_server(
    tmp_path: Path, chain: ChainSettings | tuple[ChainSettings, ...] | None
) -> AsyncIterator[Listening]:
    settings = Settings(
        ws_port=0, admin_port=0, api_port=0, data_dir=tmp_path / "data", jwt_secret=JWT_SECRET,
        chain=chain,
    )  # fmt: skip
    async with trio.open_nursery() as nursery:
        listening: Listening = await nursery.start(run_server, settings)
        yield listening
        nursery.cancel_scope.cancel()


async def eventually(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], mine: Callable[[], None]
) -> T:
    """``probe()`` until ``done`` holds, mining a block between looks; fails after WAIT_S."""
    with trio.fail_after(WAIT_S):
        while True:
            found = await probe()
            if done(found):
                return found
            mine()
            await trio.sleep(0.05)


def staff_headers() -> dict[str, str]:
    token, _ = TokenSigner(JWT_SECRET).issue("sam", "admin")
    return {"authorization": f"Bearer {token}"}


async def test_a_server_with_a_chain_credits_deposits_and_pays_withdrawals(
    tmp_path: Path, chain: Evm, node: str
) -> None:
    key_file = operator_key_file(tmp_path, chain.operator_key)
    settings = chain.settings(
        rpc_url=node, confirmations=2, poll_interval_s=0.1, batch_tick_s=0.1,
        batch_interval_s=0.1, operator_key_file=str(key_file),
    )  # fmt: skip
    chain.fund_cashier(10**9)
    async with (
        whole_server(tmp_path, settings) as server,
        open_client(server.ws_url) as alice_ws,
        httpx.AsyncClient(base_url=server.api_url) as api,
        httpx.AsyncClient(base_url=server.admin_url, headers=staff_headers()) as admin,
    ):
        services = server.runtime.registry.supervisor("services")
        names = {child.spec.name for child in services.children()}
        assert names == {f"chain-watcher:{chain.chain_id}", f"chain-batcher:{chain.chain_id}"}

        await alice_ws.register("alice", PASSWORD)
        where = await alice_ws.deposit_address()
        assert (where.chain_id, where.cashier) == (chain.chain_id, chain.cashier.address)
        chain.deposit(chain.users[0], where.reference, 50_000)  # 500 chips at 1/100
        balance = await eventually(alice_ws.balance, lambda b: b.balance == 500, chain.mine)
        assert balance.available == 500

        tokens = (
            await api.post("/v1/auth/login", json={"name": "alice", "password": PASSWORD})
        ).json()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        over_http = (await api.get("/v1/wallet/deposit-address", headers=bearer)).json()
        assert over_http["reference"] == where.reference  # one cashier behind both doors
        recipient = Web3.to_checksum_address("0x" + "5a" * 20)
        created = await api.post(
            "/v1/wallet/withdrawals",
            json={"amount": 200, "address": recipient},
            headers={**bearer, "Idempotency-Key": "out-1"},
        )
        assert created.status_code == 201, created.text
        location = created.headers["Location"]

        async def withdrawal() -> dict[str, Any]:
            found: dict[str, Any] = (await api.get(location, headers=bearer)).json()
            return found

        # The Idempotency-Key is the websocket's key: her retry there reserves nothing twice.
        retried = await alice_ws.withdraw(200, key="out-1", address=recipient)
        assert retried.withdrawal_id == created.json()["withdrawal_id"]
        paid = await eventually(withdrawal, lambda w: w["state"] == "paid", chain.mine)
        assert chain.balance(recipient) == 20_000
        over_ws = await alice_ws.withdrawal(paid["withdrawal_id"])
        assert over_ws.state == "paid"
        assert (await alice_ws.balance()).balance == 300

        status = (await admin.get(f"/chains/{chain.chain_id}")).json()
        assert status["cashier"] == chain.cashier.address
        listed = (await admin.get(f"/chains/{chain.chain_id}/withdrawals")).json()
        assert [w["state"] for w in listed] == ["paid"]
        audit = (await admin.get("/ledger/audit")).json()
        assert audit["consistent"] is True, audit
        assert_chain_metrics_served((await admin.get("/metrics")).text)


# Counters that get a series only when their event happens (a deep reorg, a held batch, a
# replacement, a failed call): declared, without samples on a healthy chain.
CHAIN_EVENT_ONLY = {
    "tablium_chain_deep_reorgs",
    "tablium_chain_reorgs",
    "tablium_chain_batch_waits",
    "tablium_chain_replacements",
    "tablium_chain_rpc_errors",
}


def assert_chain_metrics_served(exposition: str) -> None:
    """Every chain metric an alert or a dashboard names is on /metrics of this server, which
    has paid a withdrawal (tests/deploy/test_metric_names.py checks every other name on a
    server without a chain, where these do not exist)."""
    named = {n: users for n, users in referenced().items() if n.startswith(CHAIN_PREFIX)}
    assert "tablium_chain_lag_blocks" in named  # the alerts name chain metrics at all
    families = {f.name for f in text_string_to_metric_families(exposition)}
    samples = {s.name for f in text_string_to_metric_families(exposition) for s in f.samples}
    unknown = {n: u for n, u in named.items() if family_of(n) not in families}
    assert not unknown, f"named but not on /metrics: {unknown}"
    silent = {
        n: u for n, u in named.items() if n not in samples and family_of(n) not in CHAIN_EVENT_ONLY
    }
    assert not silent, f"on /metrics but without samples: {silent}"


OTHER_CHAIN_ID = 31338


@pytest.fixture
def other_node() -> Iterator[str]:
    with anvil(OTHER_CHAIN_ID) as url:
        yield url


async def test_a_server_with_two_chains_runs_each_cashier_on_its_own_node(
    tmp_path: Path, chain: Evm, node: str, other_node: str
) -> None:
    other = deploy(Web3(HTTPProvider(other_node, request_kwargs={"timeout": 10})))
    quick = {"confirmations": 2, "poll_interval_s": 0.1, "batch_tick_s": 0.1,
             "batch_interval_s": 0.1}  # fmt: skip
    first = chain.settings(
        rpc_url=node, operator_key_file=str(operator_key_file(tmp_path, chain.operator_key)),
        **quick,
    )  # fmt: skip
    second = other.settings(
        rpc_url=other_node, rate="1/1000",
        operator_key_file=str(operator_key_file(tmp_path, other.operator_key, "other.key")),
        **quick,
    )  # fmt: skip
    other.fund_cashier(10**9)

    def mine() -> None:
        chain.mine()
        other.mine()

    async with (
        whole_server(tmp_path, (first, second)) as server,
        open_client(server.ws_url) as alice,
        httpx.AsyncClient(base_url=server.admin_url, headers=staff_headers()) as admin,
    ):
        services = server.runtime.registry.supervisor("services")
        assert {child.spec.name for child in services.children()} == {
            f"chain-watcher:{chain.chain_id}", f"chain-batcher:{chain.chain_id}",
            f"chain-watcher:{OTHER_CHAIN_ID}", f"chain-batcher:{OTHER_CHAIN_ID}",
        }  # fmt: skip
        await alice.register("alice", PASSWORD)
        default = await alice.deposit_address()
        there = await alice.deposit_address(OTHER_CHAIN_ID)
        assert (default.chain_id, there.chain_id) == (chain.chain_id, OTHER_CHAIN_ID)
        assert there.cashier == other.cashier.address and there.rate == "1/1000"
        chain.deposit(chain.users[0], default.reference, 50_000)  # 500 chips at 1/100
        other.deposit(other.users[0], there.reference, 300_000)  # 300 chips at 1/1000
        await eventually(alice.balance, lambda b: b.balance == 800, mine)

        recipient = Web3.to_checksum_address("0x" + "5b" * 20)
        asked = await alice.withdraw(200, key="out", address=recipient, chain_id=OTHER_CHAIN_ID)
        assert (asked.chain_id, asked.units) == (OTHER_CHAIN_ID, "200000")

        async def state() -> str:
            return (await alice.withdrawal(asked.withdrawal_id)).state

        await eventually(state, lambda s: s == "paid", mine)
        # Paid by the second chain's cashier, in its token; nothing left the first.
        assert (other.balance(recipient), chain.balance(recipient)) == (200_000, 0)
        listed = await alice.withdrawals()
        assert [(w.chain_id, w.state) for w in listed.withdrawals] == [(OTHER_CHAIN_ID, "paid")]
        with pytest.raises(ServerError) as refused:
            await alice.deposit_address(5)
        assert refused.value.code == ErrorCode.UNKNOWN_CHAIN
        assert (await admin.get(f"/chains/{chain.chain_id}/withdrawals")).json() == []
        there_listed = (await admin.get(f"/chains/{OTHER_CHAIN_ID}/withdrawals")).json()
        assert [w["state"] for w in there_listed] == ["paid"]
        audit = (await admin.get("/ledger/audit")).json()
        assert audit["consistent"] is True, audit


def test_several_chains_come_from_toml_tables_or_a_json_array(tmp_path: Path) -> None:
    one = {"chain_id": 31337, "rpc_url": "http://127.0.0.1:8545", "cashier": "0x" + "c0" * 20,
           "token": ""}  # fmt: skip
    two = {**one, "chain_id": 10, "cashier": "0x" + "d0" * 20, "rate": "1/1000"}
    config = tmp_path / "tablium.toml"
    config.write_text(
        "".join(
            "[[chain]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items())
            for table in (one, two)
        )
    )
    from_file = load_settings({}, config)
    assert [c.chain_id for c in from_file.chains] == [31337, 10]  # the first: the default
    assert str(from_file.chains[1].exchange_rate) == "1/1000"
    from_env = load_settings({"TABLIUM_CHAIN": json.dumps([one, two])})
    assert [c.chain_id for c in from_env.chains] == [31337, 10]
    assert [c.chain_id for c in load_settings({"TABLIUM_CHAIN": json.dumps(one)}).chains] == [31337]
    assert load_settings({}).chains == ()
    for bad, says in (
        (
            [one, {**two, "chain_id": 31337}],
            r"TABLIUM_CHAIN\[1\]: chain_id 31337 is configured twice",
        ),
        ([one, {**two, "rate": "x"}], r"TABLIUM_CHAIN\[1\]: "),
        ([], "TABLIUM_CHAIN: expected 1 to 16 chains"),
        ([one, 7], r"TABLIUM_CHAIN\[1\]: expected a table"),
    ):
        with pytest.raises(ConfigError, match=says):
            load_settings({"TABLIUM_CHAIN": json.dumps(bad)})


async def test_a_server_without_a_chain_runs_no_services_and_says_so(tmp_path: Path) -> None:
    async with whole_server(tmp_path, None) as server, open_client(server.ws_url) as alice:
        assert "services" not in {c.spec.name for c in server.runtime.root.children()}
        await alice.register("alice", PASSWORD)
        with pytest.raises(ServerError) as refused:
            await alice.deposit_address()
        assert refused.value.code == ErrorCode.CASHIER_UNAVAILABLE


def test_the_chain_settings_come_from_a_toml_table_or_the_environment(tmp_path: Path) -> None:
    values = {"chain_id": 31337, "rpc_url": "http://127.0.0.1:8545", "cashier": "0x" + "c0" * 20}
    config = tmp_path / "tablium.toml"
    config.write_text(
        "[chain]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())
        + 'token = ""\nconfirmations = 5\n'
    )  # fmt: skip
    from_file = load_settings({}, config).chain
    assert from_file is not None and (from_file.chain_id, from_file.confirmations) == (31337, 5)
    from_env = load_settings({"TABLIUM_CHAIN": json.dumps({**values, "token": ""})}).chain
    assert from_env is not None and from_env.confirmations == 12
    assert load_settings({"TABLIUM_CHAIN": ""}).chain is None
    for bad in ("{", "[1]", json.dumps({**values, "token": "", "confirmations": 0})):
        with pytest.raises(ConfigError, match="TABLIUM_CHAIN"):
            load_settings({"TABLIUM_CHAIN": bad})


def test_an_operator_key_others_can_read_stops_start_up(tmp_path: Path, chain: Evm) -> None:
    path = operator_key_file(tmp_path, chain.operator_key)
    os.chmod(path, 0o644)
    settings = Settings(chain=chain.settings(operator_key_file=str(path)))
    with pytest.raises(
        ConfigError, match=r"TABLIUM_CHAIN: operator_key_file: .*readable by others"
    ):
        check_chain_settings(settings)
    missing = Settings(chain=chain.settings(operator_key_file=str(tmp_path / "none")))
    with pytest.raises(ConfigError, match="TABLIUM_CHAIN: operator_key_file"):
        check_chain_settings(missing)
    os.chmod(path, 0o600)
    check_chain_settings(Settings(chain=chain.settings(operator_key_file=str(path))))
