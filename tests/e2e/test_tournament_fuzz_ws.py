"""A live fuzz of the tournament requests over the real server: mutated requests from a
funded player, each answered (a reply or an error frame, never a dropped session), and every
refusal changes nothing: the player's balance and the tournament's entries stay as they were.
Seeded: a failure prints the seed that replays it."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import msgspec

from actors.tournament_messages import (
    DIRECTORY_NAME,
    CreateTournament,
    GetTournament,
    TournamentAddress,
    TournamentCreated,
    TournamentDetails,
    TournamentSpec,
)
from protocol import tournaments as wire
from protocol.client import ServerError
from tests.e2e.harness import running_server

FRAMES = 200
SEED = int(os.environ.get("TABLIUM_TEST_SEED", random.randrange(2**32)))


def corpus(tid: int) -> list[Any]:
    return [
        wire.ListTournaments(id=1, state="registering", buy_in_min=0, buy_in_max=1_000),
        wire.SubscribeTournaments(id=1, kind="mtt"),
        wire.UnsubscribeTournaments(id=1),
        wire.GetTournament(id=1, tournament_id=tid),
        wire.RegisterTournament(id=1, tournament_id=tid),
        wire.UnregisterTournament(id=1, tournament_id=tid),
        wire.TournamentRebuy(id=1, tournament_id=tid),
        wire.DeclineTournamentRebuy(id=1, tournament_id=tid),
        wire.TournamentAddOn(id=1, tournament_id=tid),
        wire.GetTournamentStandings(id=1, tournament_id=tid, offset=0, limit=5),
        wire.ProposeTournamentDeal(id=1, tournament_id=tid, kind="icm", keep=0),
        wire.VoteTournamentDeal(id=1, tournament_id=tid, deal_id=1, accept=True),
    ]


VALUES: list[object] = [
    None, True, False, -1, 0, 1, 2, 999, 2**63, 2**64 - 1, 1.5, "", "x" * 600, "\x00", [],
    {}, "registering", "finished", "sng", "play", "icm", "chip_chop",
]  # fmt: skip


def mutate(rng: random.Random, tid: int) -> Any:
    fields = msgspec.to_builtins(rng.choice(corpus(tid)))
    for _ in range(rng.randrange(0, 3)):
        key = rng.choice([*fields, "zzz"])
        if key in ("type", "id"):
            continue
        if rng.random() < 0.3:
            fields.pop(key, None)
        else:
            fields[key] = rng.choice(VALUES)
    return fields


async def test_mutated_tournament_requests_are_answered_and_refusals_change_nothing(
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED)
    async with running_server(tmp_path) as server:
        directory = server.registry.lookup(DIRECTORY_NAME)
        assert directory is not None
        spec = TournamentSpec(
            name="Fuzzed", kind="mtt", preset="hyper", buy_in=100, fee=10, starts_at_ms=2**62
        )
        created = await directory.ask(CreateTournament(spec=spec), timeout_s=10)
        assert isinstance(created, TournamentCreated)
        tid = created.tournament_id
        actor = server.registry.lookup(TournamentAddress(tid).actor_name)
        assert actor is not None
        fuzzer = await server.player("fuzzer", 1, acting=False)

        async def state() -> tuple[int, int]:
            details = await actor.ask(GetTournament(), timeout_s=10)
            assert isinstance(details, TournamentDetails)
            return (await server.wallet.balance(fuzzer.player_id)).balance, (
                details.summary.entries
            )

        answers: dict[str, int] = {}
        for sent in range(FRAMES):
            before = await state()
            fields = mutate(rng, tid)
            try:
                reply = await fuzzer.client.request(_typed(fields))
                name = type(reply).__name__
            except ServerError as exc:
                name = f"error:{exc.code}"
                assert await state() == before, f"seed {SEED}, frame {sent}: {fields}"
            except _Undecodable:  # the gateway refuses it (invalid_message): nothing changes
                await fuzzer.client.send_raw(msgspec.msgpack.encode(fields))
                await fuzzer.client.ping()
                assert await state() == before, f"seed {SEED}, frame {sent}: {fields}"
                name = "invalid"
            answers[name] = answers.get(name, 0) + 1
        assert await fuzzer.client.ping() >= 0  # the session survived every frame
        assert answers.get("TournamentRegistered", 0) + answers.get("Ok", 0) > 0, answers
        assert any(k.startswith("error:") for k in answers), answers


class _Undecodable(Exception):
    pass


def _typed(fields: dict[str, Any]) -> Any:
    """The typed request these fields make, or _Undecodable (sent raw instead)."""
    from protocol.messages import Request

    try:
        return msgspec.msgpack.decode(msgspec.msgpack.encode(fields), type=Request)
    except msgspec.ValidationError:
        raise _Undecodable from None
