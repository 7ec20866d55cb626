"""A stream of ledger operations, acknowledged one by one; the crash test SIGKILLs it.

``python -m tests.persistence.ledger_stream URL ACK_FILE``: opens the store, funds ten
players, then runs operation 0, 1, 2, ... forever. Operation n is a pure function of n (its
own seeded RNG), so a restarted stream repeats the same operations with the same idempotency
keys: the ones already applied come back as replays. After each operation commits, one line
``n transfer_id`` goes to ACK_FILE: an acknowledgement the test holds the ledger to.
"""

from __future__ import annotations

import os
import random
import sys

import trio

from persistence.store import open_store
from services.ledger import InsufficientFunds
from services.wallet import Wallet

PLAYERS = 10
START_CHIPS = 500


async def stream(url: str, ack_path: str) -> None:
    async with open_store(url) as store:
        w = Wallet(store)
        players: list[int] = []
        for i in range(PLAYERS):
            account = await store.get_account_by_name(f"crash{i}")
            if account is None:
                account = await store.create_account(f"crash{i}", "h", "player")
            players.append(account.id)
            await w.post((await w.request_deposit("fund", account.id, START_CHIPS)).id)
        ack = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        n = 0
        while True:
            rng = random.Random(n)
            sender, receiver = rng.sample(players, 2)
            amount = rng.randint(1, 80)
            try:
                if n % 5 == 0:
                    # A withdrawal request, then its resolution: a kill may fall in between.
                    record = await w.request_withdrawal(f"w{n}", sender, amount)
                    record = await (w.post if n % 10 == 0 else w.void)(record.id)
                else:
                    record = await w.transfer_to_player(f"s{n}", sender, receiver, amount)
            except InsufficientFunds:
                pass
            else:
                os.write(ack, f"{n} {record.id}\n".encode())
            n += 1


if __name__ == "__main__":
    trio.run(stream, sys.argv[1], sys.argv[2])
