"""My hand histories over the websocket: the same rule and the same text as the API's."""

from __future__ import annotations

from pathlib import Path

import pytest

from persistence.hands import hand_phh, hand_text
from poker.text_history import Viewer
from protocol.client import ServerError, open_client
from protocol.errors import ErrorCode
from protocol.textframes import Encoding
from services.hand_histories import names_in
from tests.api.test_hand_routes import hidden_hand, save, unseen_cards_hidden
from tests.persistence.stores import store_url
from tests.protocol.gateway_harness import PASSWORD, gateway_and_store


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_players_read_their_own_hands_and_never_anothers(
    tmp_path: Path, postgres_url: str, backend: str
) -> None:
    url = await store_url(backend, tmp_path, postgres_url)
    async with (
        gateway_and_store(tmp_path, database_url=url) as (gateway, store),
        open_client(gateway.url) as one,
        open_client(gateway.url, encoding=Encoding.JSON) as two,
        open_client(gateway.url) as three,
        open_client(gateway.url) as four,
    ):
        ids = []
        for client, name in ((one, "one"), (two, "two"), (three, "three"), (four, "four")):
            await client.register(name, PASSWORD)
            ids.append(gateway.sessions.of_player(name)[0].player_id)
        assert ids == [1, 2, 3, 4]  # the hands below seat players 1, 2 and 3
        for n in range(3):
            await save(store, f"t-1:1:{n + 1}", hidden_hand(n))

        page = await one.my_hands(limit=2)
        assert [h.hand_id for h in page.hands] == ["t-1:1:3", "t-1:1:2"]
        rest = await one.my_hands(before_seq=page.next_before_seq, limit=2)
        assert [h.hand_id for h in rest.hands] == ["t-1:1:1"]
        assert rest.next_before_seq is None
        assert {p.player_id for p in page.hands[0].players} == {1, 2, 3}

        record = await store.get_hand("t-1:1:2")
        assert record is not None
        for client, me in ((one, 1), (two, 2)):
            got = await client.my_hand("t-1:1:2")
            assert got.history == hand_phh(record, Viewer.of_player(me))
            unseen_cards_hidden(got.history, str(me))
            text = await client.my_hand("t-1:1:2", "text")
            names = await names_in(store, record)  # text histories name players
            assert text.history == hand_text(record, Viewer.of_player(me), names)
            assert (text.format, text.hand.hand_id, text.hand.seq) == (
                "text",
                "t-1:1:2",
                record.seq,
            )

        # Player 4 sat in none of them: listed nothing, and any id is unknown alike.
        assert (await four.my_hands()).hands == []
        for hand_id in ("t-1:1:2", "no-such-hand"):
            with pytest.raises(ServerError) as refused:
                await four.my_hand(hand_id)
            assert refused.value.code == ErrorCode.UNKNOWN_HAND
