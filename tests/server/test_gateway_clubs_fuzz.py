"""A live fuzz of the club messages: mutated club requests from a member, each answered (a
reply or an error frame, never a dropped session), and every refusal changes nothing the
owner can see. Seeded: a failure prints the seed that replays it."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import msgspec
from trio_websocket import open_websocket_url

from protocol import clubs as wire
from protocol.client import open_client
from protocol.codec import encode
from protocol.messages import Authenticate, Error, Event, Hello, LoggedIn, Ping, Pong
from server.auth import TokenSigner
from server.gateway import GatewayLimits
from services.clubs import Clubs
from tests.protocol.gateway_harness import PASSWORD, TEST_SECRET, decode, gateway_and_store

FRAMES = 300
SEED = int(os.environ.get("TABLIUM_TEST_SEED", random.randrange(2**32)))
MARKER_ID_BASE = 3_000_000_000
# The fuzzer and the observer send far faster than a player: no rate limit in the way.
UNLIMITED = GatewayLimits(
    rate_burst_requests=10**6, rate_refill_per_s=10**6, rate_ip_burst_requests=10**6,
    rate_ip_refill_per_s=10**6,
)  # fmt: skip

CORPUS: list[Any] = [
    wire.ClubCreate(id=1, name="Fuzzed club"),
    wire.ClubFind(id=1, code="AAAAAA"),
    wire.ClubJoin(id=1, code="AAAAAA", agent_id=1),
    wire.ClubListMine(id=1),
    wire.ClubGet(id=1, club_id=1),
    wire.ClubMembers(id=1, club_id=1, after_player=1, limit=5),
    wire.ClubInvite(id=1, club_id=1, player_id=3),
    wire.ClubInvitations(id=1),
    wire.ClubAnswerInvitation(id=1, club_id=1, accept=True),
    wire.ClubJoinRequests(id=1, club_id=1),
    wire.ClubReviewRequest(id=1, club_id=1, player_id=3, approve=True),
    wire.ClubMemberAction(id=1, club_id=1, player_id=1, action="ban"),
    wire.ClubSetRole(id=1, club_id=1, player_id=2, role="agent", commission_bp=10),
    wire.ClubSetAgent(id=1, club_id=1, player_id=2, agent_id=1),
    wire.ClubTransferOwnership(id=1, club_id=1, player_id=2),
    wire.ClubUpdate(id=1, club_id=1, description="x", join_policy="open"),
    wire.ClubSetTiers(
        id=1, club_id=1, tiers=[wire.TierRecord(name="A", threshold_points=0, rakeback_bp=1)]
    ),
    wire.ClubRegisterTable(id=1, club_id=1, table_id="t"),
    wire.ClubCreateTable(id=1, club_id=1, name="T", variant="NT", small_blind=1, big_blind=2),
    wire.ClubStatsRequest(id=1, club_id=1, period="week:2026-11-30"),
    wire.RakebackStatementRequest(id=1, limit=3),
    wire.RakebackTiersRequest(id=1),
]
VALUES: list[object] = [
    None, True, False, -1, 0, 1, 2, 3, 2**63, 2**64 - 1, 1.5, "", "x" * 600, "\x00", [], {},
    [{"name": "A", "threshold_points": -1, "rakeback_bp": 20_000}], "week:2026-12-01",
    "ban", "owner", "open", "AAAAAA",
]  # fmt: skip


def mutate(rng: random.Random) -> bytes:
    fields = msgspec.to_builtins(rng.choice(CORPUS))
    for _ in range(rng.randrange(0, 3)):
        key = rng.choice([*fields, "zzz"])
        if key == "type":
            continue
        if rng.random() < 0.3:
            fields.pop(key, None)
        else:
            fields[key] = rng.choice(VALUES)
    return msgspec.msgpack.encode(fields)


async def test_mutated_club_requests_are_answered_and_refusals_change_nothing(
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED)
    async with (
        gateway_and_store(tmp_path, limits=UNLIMITED) as (gateway, store),
        open_client(gateway.url) as owner,
        open_client(gateway.url) as other,
    ):
        await owner.register("olga", PASSWORD)
        await other.register("bertie", PASSWORD)
        created = await owner.request(wire.ClubCreate(id=0, name="Owls", join_policy="open"))
        assert isinstance(created, wire.ClubInfo)
        fuzzer = (await store.create_account("fuzzer", "hash", "player")).id
        await Clubs(store).join(fuzzer, created.club.code)

        async def state() -> Any:
            detail = await owner.request(wire.ClubGet(id=0, club_id=created.club.club_id))
            page = await owner.request(wire.ClubMembers(id=0, club_id=created.club.club_id))
            found = [msgspec.to_builtins(reply) for reply in (detail, page)]
            return [{k: v for k, v in reply.items() if k != "id"} for reply in found]

        token, _ = TokenSigner(TEST_SECRET).issue("fuzzer", "player")
        answers: dict[str, int] = {}
        async with open_websocket_url(gateway.url) as ws:
            await ws.send_message(encode(Hello(id=1, versions=[1])))
            decode(await ws.get_message())
            await ws.send_message(encode(Authenticate(id=2, token=token)))
            assert isinstance(decode(await ws.get_message()), LoggedIn)
            for sent in range(FRAMES):
                before = await state()
                marker = MARKER_ID_BASE + sent
                await ws.send_message(mutate(rng))
                await ws.send_message(encode(Ping(id=marker)))
                refused = False
                while True:
                    reply = decode(await ws.get_message())
                    if isinstance(reply, Pong) and reply.id == marker:
                        break
                    if isinstance(reply, Event):
                        continue
                    refused = refused or isinstance(reply, Error)
                    name = (
                        f"error:{reply.code}" if isinstance(reply, Error) else type(reply).__name__
                    )
                    answers[name] = answers.get(name, 0) + 1
                if refused:
                    assert await state() == before, f"seed {SEED}, frame {sent}"
        assert answers.get("error:invalid_message", 0) > 0, answers
        assert answers.get("error:club_permission_denied", 0) > 0, answers
