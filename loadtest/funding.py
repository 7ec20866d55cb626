"""How a bot gets chips to buy in with, since the protocol has no instant way.

A new wallet's real-money balance is empty, and a real-money deposit is a payment on chain
(``wallet_deposit`` answers the blockchain cashier's address, when the server runs one), so a
bot cannot fund itself over the websocket. The
honest option that needs no server change: the swarm's setup credits each bot through the
admin HTTP API (``POST /players/{id}/wallet/adjustments``, a double-entry transfer from the
house, audited) with a staff token from ``tablium token --player swarm --role support``.
Each credit has an idempotency key per run and bot (``swarm:<run tag>:<bot name>``), so a
retried setup never pays twice and another run's credit is never taken for this one's.
"""

from __future__ import annotations

from typing import Final, final

import httpx
import trio

ADMIN_TIMEOUT_S: Final = 10.0
ADMIN_CONCURRENCY_MAX: Final = 8  # admin requests in flight per process; more wait their turn
PLAYER_SEARCH_LIMIT: Final = 10  # names are unique ignoring case: one of these is ours
# Bound: the admin API takes keys of up to 128 characters; with a 24-character name this
# leaves room. A longer tag is refused (ValueError), never cut: a cut key could name two bots.
RUN_TAG_CHARS_MAX: Final = 64


class FundingError(Exception):
    """The admin API refused or could not be reached; the bot cannot buy in."""


@final
class AdminFunder:
    """Credits bot wallets through the admin API. Use inside ``async with``."""

    def __init__(self, admin_url: str, staff_token: str, run_tag: str) -> None:
        if not 0 < len(run_tag) <= RUN_TAG_CHARS_MAX:
            raise ValueError(f"run_tag must be 1..{RUN_TAG_CHARS_MAX} characters: {run_tag!r}")
        self.admin_url = admin_url.rstrip("/")
        self.run_tag = run_tag
        self._http = httpx.AsyncClient(
            base_url=self.admin_url,
            headers={"Authorization": f"Bearer {staff_token}"},
            timeout=ADMIN_TIMEOUT_S,
        )
        self._limiter = trio.CapacityLimiter(ADMIN_CONCURRENCY_MAX)

    async def __aenter__(self) -> AdminFunder:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    async def credit(self, player: str, amount: int) -> None:
        """Credit ``amount`` chips to ``player`` (once per run, whatever the retries)."""
        async with self._limiter:
            try:
                player_id = await self._player_id(player)
                response = await self._http.post(
                    f"/players/{player_id}/wallet/adjustments",
                    json={
                        "amount": amount,
                        "reason": "bot swarm setup: chips to buy in with",
                        "key": f"swarm:{self.run_tag}:{player}",
                    },
                )
            except httpx.HTTPError as exc:
                raise FundingError(f"admin API unreachable: {exc}") from exc
        if response.status_code != 200:
            raise FundingError(f"adjustment refused: {response.status_code} {response.text}")

    async def _player_id(self, player: str) -> int:
        response = await self._http.get(
            "/players", params={"q": player, "limit": PLAYER_SEARCH_LIMIT}
        )
        if response.status_code != 200:
            raise FundingError(f"player search refused: {response.status_code} {response.text}")
        for row in response.json()["players"]:
            if row["name"].lower() == player.lower():
                return int(row["id"])
        raise FundingError(f"no account named {player!r}")
