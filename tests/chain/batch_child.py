"""The withdrawal batcher in a process of its own: the subject of the kill -9 test.

``python -m tests.chain.batch_child SETTINGS_JSON DATABASE_URL KEY_FILE [CRASH_POINT]`` ticks
until nothing is queued or in flight (exit 0), printing each tick's outcome; with a crash
point it sends itself SIGKILL when it gets there (services/chain/batcher.py names them).
"""

from __future__ import annotations

import json
import os
import signal
import sys

import trio

from persistence.store import open_store
from services.chain.batcher import WithdrawalBatcher
from services.chain.cashier import ChainCashier
from services.chain.ledger_port import WalletCashierLedger
from services.chain.rpc import Web3Client
from services.chain.settings import ChainSettings, read_operator_key
from services.wallet import Wallet

TICKS_MAX = 20  # bound: a batcher that has not finished by then has failed the test


async def run(settings_json: str, database_url: str, key_file: str, crash: str | None) -> int:
    settings = ChainSettings.from_mapping(json.loads(settings_json))

    def crash_point(point: str) -> None:
        if point == crash:
            print(f"killed at {point}", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    async with open_store(database_url, pool_size=2) as store:
        client = Web3Client.over_http(
            settings.rpc_url, settings.cashier, label=str(settings.chain_id), timeout_s=10
        )
        cashier = ChainCashier(store, WalletCashierLedger(Wallet(store)), settings)
        cashier.crash_point = crash_point
        batcher = WithdrawalBatcher(
            store, client, cashier, settings, read_operator_key(key_file), crash_point=crash_point
        )
        await batcher.check_contract()
        for _ in range(TICKS_MAX):
            outcome = await batcher.tick()
            print(outcome, flush=True)
            if outcome == "idle":
                return 0
    return 1


if __name__ == "__main__":
    crash_at = sys.argv[4] if len(sys.argv) > 4 else None
    sys.exit(trio.run(run, sys.argv[1], sys.argv[2], sys.argv[3], crash_at))
