"""My hand histories: listed, read as JSON, PHH and text, never with another player's unshown
cards; a hand I did not play is not found."""

from __future__ import annotations

import dataclasses
import random

from persistence import HandPlayer, HandRecord, Store
from poker import Variant, phh
from poker.simulate import random_setup, simulate_hand
from tests.api.conftest import ApiHarness
from tests.api.test_auth_flows import problem

SEED = 11


def hidden_hand(seed: int) -> phh.HandHistory:
    """A 3-player hand (player ids 1, 2, 3) in which some hand was never shown."""
    rng = random.Random(seed)
    while True:
        history = simulate_hand(random_setup(Variant.NO_LIMIT_HOLDEM, 3, rng), rng)
        shown = {a.split()[0] for a in history.actions if " sm " in a}
        if len(shown) < 3:
            return dataclasses.replace(history, players=("1", "2", "3"))


async def save(store: Store, hand_id: str, history: phh.HandHistory) -> None:
    await store.save_hand(
        HandRecord(
            hand_id=hand_id, table_id="t-1", game="NT 1/2", started_at_ms=1, ended_at_ms=2,
            pot_total=6, rake=0, phh=phh.dumps(history),
            players=(HandPlayer(1, 0, 1), HandPlayer(2, 1, -1), HandPlayer(3, 2, 0)),
        )
    )  # fmt: skip


def unseen_cards_hidden(text: str, me: str) -> None:
    history = phh.loads(text)
    assert history.players is not None
    shown = {a.split()[0]: a.split()[2] for a in history.actions if " sm " in a}
    hidden = 0
    for action in history.actions:
        if action.startswith("d dh "):
            _, _, who, cards = action.split()
            if history.players[int(who[1:]) - 1] != me:
                assert cards == "????" or shown.get(who) == cards, action
                hidden += cards == "????"
    assert hidden >= 1


async def test_my_hand_never_shows_another_players_unshown_cards(
    api: ApiHarness, store: Store
) -> None:
    alice = await api.register("alice")
    history = hidden_hand(SEED)
    await save(store, "t-1:1:1", history)
    url = "/v1/me/hands/t-1:1:1"
    as_json = await (await api.client.get(url, headers=api.bearer(alice))).get_json()
    unseen_cards_hidden(as_json["phh"], "1")
    assert [p["player_id"] for p in as_json["players"]] == [1, 2, 3]
    as_phh = await api.client.get(f"{url}?format=phh", headers=api.bearer(alice))
    assert as_phh.headers["Content-Type"].startswith("text/plain")
    unseen_cards_hidden(await as_phh.get_data(as_text=True), "1")
    as_text = await api.client.get(f"{url}?format=text", headers=api.bearer(alice))
    dealt = [
        line
        for line in (await as_text.get_data(as_text=True)).splitlines()
        if line.startswith("Dealt to ")
    ]
    # Players print by their display names (alice is player 1).
    assert [line.split(" [")[0] for line in dealt] == ["Dealt to alice"]
    assert as_json["display_names"] == {"1": "alice"}


async def test_a_hand_i_did_not_play_is_not_found(api: ApiHarness, store: Store) -> None:
    await api.register("alice")
    await api.register("bobby")
    carol = await api.register("carol")
    dave = await api.register("daveo")
    await save(store, "t-1:1:1", hidden_hand(SEED))
    assert (await api.client.get("/v1/me/hands/t-1:1:1", headers=api.bearer(carol))).status_code
    response = await api.client.get("/v1/me/hands/t-1:1:1", headers=api.bearer(dave))
    await problem(response, 404, "not_found")
    missing = await api.client.get("/v1/me/hands/nope", headers=api.bearer(dave))
    await problem(missing, 404, "not_found")
    bad = await api.client.get("/v1/me/hands/t-1:1:1?format=pdf", headers=api.bearer(carol))
    await problem(bad, 400, "invalid_request")


async def test_my_hands_are_listed_newest_first_in_pages(api: ApiHarness, store: Store) -> None:
    alice = await api.register("alice")
    for n in range(1, 6):
        await save(store, f"t-1:1:{n}", hidden_hand(SEED + n))
    seen: list[str] = []
    url = "/v1/me/hands?limit=2"
    while url:
        page = await (await api.client.get(url, headers=api.bearer(alice))).get_json()
        seen += [hand["hand_id"] for hand in page["data"]]
        url = page["next_cursor"] and f"/v1/me/hands?limit=2&cursor={page['next_cursor']}"
    assert seen == [f"t-1:1:{n}" for n in range(5, 0, -1)]
