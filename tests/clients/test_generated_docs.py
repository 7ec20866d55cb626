"""The schema, the error table and the TypeScript types are generated from protocol/ and
checked in; these tests fail when a checked-in file drifts from the code (fix: make schema)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import msgspec

from protocol import game, messages
from protocol.errors import CloseCode, ErrorCode
from protocol.schema import message_tags, protocol_schema
from server.commands.schema import drifted
from tests.clients.node import ROOT, require_node_modules, run_node

SCHEMA_PATH = ROOT / "docs" / "schema" / "protocol.schema.json"


def _validator(direction: str) -> Any:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema_rs.Draft202012Validator(
        {**schema, "anyOf": [{"$ref": f"#/$defs/{direction}"}]}
    )


def _wire(message: msgspec.Struct) -> Any:
    """What a client sees after decoding the msgpack frame."""
    return msgspec.msgpack.decode(msgspec.msgpack.encode(message))


def test_checked_in_schema_and_error_table_match_the_code() -> None:
    assert drifted(ROOT) == {}, "run `make schema` and commit the result"


def test_schema_names_every_message_of_both_directions() -> None:
    defs = protocol_schema()["$defs"]
    tagged = {
        schema["properties"]["type"]["enum"][0]
        for schema in defs.values()
        if "properties" in schema and "type" in schema["properties"]
    }
    for union in (messages.Request, messages.ServerMessage, messages.PushBody, game.GamePush):
        assert set(message_tags(union)) <= tagged
    for name in ("Request", "ServerMessage", "Reply", "PushBody", "GameRequest", "GamePush"):
        assert "anyOf" in defs[name]


def test_schema_accepts_frames_the_server_encodes() -> None:
    listing = game.TableListing(
        table_id="nt-1-2-a", name="Main", variant="NT", small_blind=1, big_blind=2,
        buy_in_min=80, buy_in_max=400, seats_total=6, seats_taken=2, waiting=0,
        average_pot=0, hands_per_hour=0,
    )  # fmt: skip
    snapshot = game.TableSnapshot(
        table_id="nt-1-2-a", listing=listing,
        seats=(game.SeatView(seat=0, player_id=7, stack=200, state="playing", in_hand=True),),
        button=0, hand_number=3, board=("As", "Kd", "2c"), bets=((0, 10), (3, 20)),
        hole_cards=("Qh", "Qs"), to_act=3,
    )  # fmt: skip
    validator = _validator("ServerMessage")
    for frame in (
        messages.Event(seq=4, body=snapshot),
        messages.Error(id=None, code="replay_gap"),
        game.TableList(id=9, tables=(listing,)),
    ):
        assert validator.is_valid(_wire(frame)), frame
    requests = _validator("Request")
    act = game.Act(id=3, table_id="nt-1-2-a", hand_number=3, action="bet_or_raise_to", amount=40)
    assert requests.is_valid(_wire(act))
    assert requests.is_valid({"type": "hello", "id": 1, "versions": [1]})  # defaults left out


def test_schema_refuses_what_the_server_refuses() -> None:
    requests = _validator("Request")
    good = {"type": "join_table", "id": 2, "table_id": "t", "buy_in": 100}
    assert requests.is_valid(good)
    assert not requests.is_valid({**good, "colour": "red"})  # unknown field
    assert not requests.is_valid({**good, "buy_in": -1})  # chips are never negative
    assert not requests.is_valid({**good, "type": "join_tables"})  # unknown type
    assert not requests.is_valid({**good, "id": 2**32})  # ids are u32
    assert not _validator("ServerMessage").is_valid(good)  # a request is no server message


def test_error_table_lists_every_error_and_close_code() -> None:
    text = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    for code in [*ErrorCode, *game.GAME_ERROR_CODES]:
        assert f"`{code}`" in text
    for close in CloseCode:
        assert f"| {close.value} `{close.name.lower()}` |" in text


def test_typescript_types_match_the_schema() -> None:
    require_node_modules("json-schema-to-typescript")
    result = run_node(["scripts/generate-types.mjs", "--check"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_typescript_declarations_compile() -> None:
    """The generated types, the SDK's declarations and an example using both type-check."""
    require_node_modules("typescript")
    result = run_node(["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_vendored_msgpack_matches_the_locked_package() -> None:
    """The browser loads clients/web/vendor/msgpack; it is the npm package of the lock file."""
    require_node_modules("@msgpack/msgpack")
    result = run_node(["scripts/vendor-msgpack.mjs", "--check"])
    assert result.returncode == 0, result.stdout + result.stderr
