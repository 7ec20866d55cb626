"""Provably fair deals at a live table (docs/fairness.md): every hand is committed to before
it starts and revealed when it ends; each player verifies what she saw; client seeds set
between hands deal the next hand; the stored history verifies with ``tablium hands verify``;
the server seed is never in the table's stored state before its reveal."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import msgspec
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.table.admin import PauseTable, ResumeTable
from actors.table.deps import TableDeps
from actors.table.messages import (
    AddWatcher,
    ChooseClientSeed,
    GameRefused,
)
from persistence import open_store
from persistence.snapshot_writer import SnapshotWriter
from poker import fairness, phh
from protocol import game
from protocol.codec import RequestDecoder
from protocol.errors import ErrorCode, RemoteProtocolError
from server.commands.hands import _verify_hand
from services.wallet import Wallet
from tests.actors.test_table_fakes import (
    Bots,
    Game,
    RecordingChannel,
    drive,
    game_tree,
    nlhe,
    running_game,
    sqlite_url,
)
from tests.fair_deals import DealWatch

WATCHER = 999


def watches(session: Game) -> dict[int, DealWatch]:
    """Each receiver's hands, from everything delivered to it so far, in order."""
    out: dict[int, DealWatch] = {}
    for player_id, bodies in session.channel.bodies.items():
        watch = out[player_id] = DealWatch()
        for _, body in bodies:
            watch.see(body)
    return out


async def play(session: Game, table_id: str, players: list[int], hands: int, seed: int) -> None:
    table = await session.open_table(nlhe(table_id, between_hands_ms=10))
    await session.fund(players)
    stream = session.channel.stream()
    await table.ask(PauseTable())
    seats = await session.seat_all(table, players, buy_in=200)
    await table.ask(AddWatcher(player_id=WATCHER))
    await table.ask(ResumeTable())
    bots = Bots(table, table_id, seats, random.Random(seed), refill=200)
    ended = 0

    def until(player_id: int, body: game.GamePush) -> bool:
        nonlocal ended
        if player_id == WATCHER and isinstance(body, game.HandEnded):
            ended += 1
        return ended >= hands

    await drive(session, bots, stream, until)


async def test_every_hand_is_committed_before_it_starts_and_verifies_for_every_viewer(
    tmp_path: Path,
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=26) as session:
        await play(session, "fair", [1, 2, 3, 4], hands=12, seed=26)
        for player_id, watch in watches(session).items():
            assert len(watch.ended) >= 11, player_id
            for hand in watch.ended:
                # The commitment came first (deal_commitment), and hand_started repeated it.
                assert hand.announced is not None and hand.announced == hand.commitment
                ended = hand.ended
                assert ended is not None and ended.server_seed is not None
                assert [s.seat for s in ended.client_seeds] == sorted(hand.dealing_order)
                hand.verify(hole_cards_each=2)


async def test_a_client_seed_deals_the_next_hand_and_the_reveal_names_it(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=27) as session:
        table = await session.open_table(nlhe("seeds", between_hands_ms=10))
        await session.fund([1, 2])
        stream = session.channel.stream()
        await table.ask(PauseTable())
        seats = await session.seat_all(table, [1, 2], buy_in=200)
        seat_of = {player: seat for seat, player in seats.items()}
        mine = b"alice's lucky phrase"
        await table.ask(ChooseClientSeed(player_id=1, seed=mine))  # before hand 1 starts
        await table.ask(ResumeTable())
        bots = Bots(table, "seeds", seats, random.Random(27))
        revealed: dict[int, dict[int, str]] = {}

        def until(player_id: int, body: game.GamePush) -> bool:
            if player_id == 1 and isinstance(body, game.HandEnded):
                revealed[body.hand_number] = {s.seat: s.seed for s in body.client_seeds}
            return len(revealed) >= 3

        async def change_seed_during_hand_2(player_id: int, body: game.GamePush) -> bool:
            if player_id == 1 and isinstance(body, game.HandStarted) and body.hand_number == 2:
                await table.ask(ChooseClientSeed(player_id=1, seed=b"\x00\xff"))
            return until(player_id, body)

        await drive(session, bots, stream, change_seed_during_hand_2)
        own = seat_of[1]
        assert revealed[1][own] == mine.hex() and revealed[2][own] == mine.hex()
        assert revealed[3][own] == "00ff"  # set during hand 2: from hand 3 on
        other = seat_of[2]  # no seed of her own: a fresh default each hand
        defaults = {revealed[n][other] for n in (1, 2, 3)}
        assert len(defaults) == 3 and all(len(bytes.fromhex(s)) == 16 for s in defaults)
        watch = watches(session)[1]
        for hand in watch.ended[:3]:
            seed = mine if hand.hand_number < 3 else b"\x00\xff"
            hand.verify(hole_cards_each=2, own_seat=own, own_seed=seed)
        with pytest.raises(fairness.ClientSeedSubstituted):
            watch.ended[0].verify(hole_cards_each=2, own_seat=own, own_seed=b"not mine")


async def test_a_client_seed_is_refused_unless_seated_and_of_1_to_64_bytes(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=28) as session:
        table = await session.open_table(nlhe("refused"))
        await session.fund([1])
        await session.seat_all(table, [1], buy_in=200)
        with pytest.raises(GameRefused) as refused:
            await table.ask(ChooseClientSeed(player_id=2, seed=b"x"))
        assert refused.value.code == "not_seated"
        for bad in (b"", b"x" * 65):
            with pytest.raises(GameRefused) as refused:
                await table.ask(ChooseClientSeed(player_id=1, seed=bad))
            assert refused.value.code == "fairness_input_invalid"
        await table.ask(ChooseClientSeed(player_id=1, seed=b"x" * 64))


async def test_stored_histories_verify_and_a_changed_card_does_not(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=29) as session:
        await play(session, "stored", [1, 2, 3], hands=6, seed=29)
        summaries = await session.store.hands_by_table("stored", limit=50)
        assert len(summaries) >= 5
        for summary in summaries:
            record = await session.store.get_hand(summary.hand_id)
            assert record is not None
            history = phh.loads(record.phh)
            fields = dict(history.extra)
            assert fields["_fair_hand_id"] == f"stored:{history.hand}"
            _verify_hand(history)  # what `tablium hands verify` runs on each hand
        dealt = str(fields["_fair_dealt"])
        swapped = dealt[2:4] + dealt[0:2] + dealt[4:]  # two cards of the deck exchanged
        tampered = {**fields, "_fair_dealt": swapped}
        with pytest.raises(fairness.DealMismatch):
            _verify_hand(replace(history, extra=tuple(tampered.items())))


async def test_the_server_seed_is_not_in_the_stored_state_before_its_reveal(
    tmp_path: Path,
) -> None:
    async with open_store(sqlite_url(tmp_path)) as store:
        writer = SnapshotWriter(store, flush_interval_ms=1)
        channel = RecordingChannel()
        deps = TableDeps(
            store=store, wallet=Wallet(store), channel=channel, rng=random.Random(30),
            snapshots=writer,
        )  # fmt: skip
        async with trio.open_nursery() as nursery:
            await nursery.start(writer.run)
            async with game_tree(deps) as session:
                table = await session.open_table(nlhe("secret", between_hands_ms=10))
                await session.fund([1, 2])
                stream = channel.stream()
                seats = await session.seat_all(table, [1, 2], buy_in=200)
                bots = Bots(table, "secret", seats, random.Random(30))
                stored: dict[int, bytes] = {}  # hand number -> the stored state while it ran
                revealed: dict[int, bytes] = {}

                async def until(player_id: int, body: game.GamePush) -> bool:
                    if player_id != 1:
                        return False
                    if isinstance(body, game.HandStarted):
                        await writer.flush()
                        snapshot = await store.load_snapshot("secret")
                        assert snapshot is not None
                        stored[body.hand_number] = snapshot.data
                    elif isinstance(body, game.HandEnded):
                        assert body.server_seed is not None
                        revealed[body.hand_number] = bytes.fromhex(body.server_seed)
                    return len(revealed) >= 4

                await drive(session, bots, stream, until)
            nursery.cancel_scope.cancel()
    assert len(stored) >= 4
    for number, seed in revealed.items():
        assert seed not in stored[number] and seed.hex().encode() not in stored[number]


async def test_a_table_snapshot_between_hands_carries_the_next_commitment(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=31) as session:
        table = await session.open_table(nlhe("late"))
        await table.ask(AddWatcher(player_id=WATCHER))
        (snapshot,) = session.channel.of(WATCHER, game.TableSnapshot)
        (announced,) = session.channel.of(WATCHER, game.DealCommitment) or [None]
        commitment = snapshot.next_commitment
        assert commitment is not None and len(commitment) == 64
        assert announced is None  # drawn when the table opened, before she watched
        await trio.lowlevel.checkpoint()


@settings(max_examples=200, deadline=None)
@given(seed=st.one_of(st.binary(max_size=80).map(bytes.hex), st.text(max_size=140)))
def test_set_client_seed_decodes_exactly_the_seeds_the_scheme_takes(seed: str) -> None:
    """The wire's pattern for ``set_client_seed.seed`` lets through exactly the lowercase
    hex of 1..64 bytes, which the table and ``deal_message`` then take; anything else is an
    ``invalid_message`` before any table sees it."""
    frame = msgspec.msgpack.encode(
        {"type": "set_client_seed", "id": 1, "table_id": "t1", "seed": seed}
    )
    try:
        raw = bytes.fromhex(seed) if seed == seed.lower() else None
    except ValueError:
        raw = None
    takes = raw is not None and 1 <= len(raw) <= fairness.CLIENT_SEED_BYTES_MAX
    try:
        request = RequestDecoder().decode(frame)
    except RemoteProtocolError as exc:
        assert not takes and exc.code == ErrorCode.INVALID_MESSAGE, (seed, exc)
        return
    assert takes and isinstance(request, game.SetClientSeed), seed
    assert raw is not None
    fairness.deal_message("t1:1", {0: raw})
