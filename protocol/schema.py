"""The protocol's JSON Schema and its error-code table, generated from the definitions.

Nothing here is written by hand about a message: the schema is msgspec's reading of the
Structs in protocol/messages.py and protocol/game.py, and the error table is the ErrorCode
and CloseCode enums of protocol/errors.py and game.py's GAME_ERROR_CODES, with the comments
written beside each code in those files as its explanation. docs/schema/ and docs/errors.md
hold the rendered files; ``python -m server.commands.schema check`` (and the test suite)
fails when they drift from the code, ``... write`` renders them again.

The schema is JSON Schema 2020-12 describing the decoded msgpack map of each frame (msgpack
and JSON agree on every type the protocol uses: maps, arrays, strings, integers, booleans,
nil). ``$defs`` holds every message and record by its class name, and the protocol's unions
by their Python names (``Request``, ``ServerMessage``, ``Reply``, ``PushBody``,
``GameRequest``, ``GameReply``, ``GamePush``). A field with a default may be left out by a
client; the server always sends every field.
"""

from __future__ import annotations

import enum
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Final

import msgspec

from protocol import errors, game, messages

SCHEMA_ID: Final = "urn:tablium:protocol"
SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"

# The unions a client author needs by name, in the order they are listed.
UNIONS: Final[dict[str, Any]] = {
    "Request": messages.Request,
    "ServerMessage": messages.ServerMessage,
    "Reply": messages.Reply,
    "PushBody": messages.PushBody,
    "GameRequest": game.GameRequest,
    "GameReply": game.GameReply,
    "GamePush": game.GamePush,
}


def protocol_schema() -> dict[str, Any]:
    """One JSON Schema document for every message in both directions.

    The document itself matches any frame of either direction (``Request`` or
    ``ServerMessage``); ``$defs/Request`` and ``$defs/ServerMessage`` are the two directions.
    """
    union_schemas, components = msgspec.json.schema_components(
        list(UNIONS.values()), ref_template="#/$defs/{name}"
    )
    clashes = set(UNIONS) & set(components)
    if clashes:
        raise ValueError(f"a message is named like a protocol union: {sorted(clashes)}")
    defs: dict[str, Any] = dict(zip(UNIONS, union_schemas, strict=True))
    defs.update(sorted(components.items()))
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "Tablium wire protocol",
        "description": (
            "Every websocket frame of the Tablium protocol, one msgpack map per binary frame, "
            "described as JSON. Generated from protocol/messages.py and protocol/game.py; "
            "do not edit (python -m server.commands.schema write)."
        ),
        "x-protocol-versions": list(messages.PROTOCOL_VERSIONS),
        "anyOf": [{"$ref": "#/$defs/Request"}, {"$ref": "#/$defs/ServerMessage"}],
        "$defs": defs,
    }


def schema_text() -> str:
    """The schema as the checked-in file holds it (stable key order, two-space indent)."""
    return json.dumps(protocol_schema(), indent=2, ensure_ascii=False) + "\n"


def message_tags(union: Any) -> list[str]:
    """The ``type`` tags of a union's messages, in definition order."""
    info = msgspec.inspect.type_info(union)
    assert isinstance(info, msgspec.inspect.UnionType)
    tags: list[str] = []
    for member in info.types:
        assert isinstance(member, msgspec.inspect.StructType)
        assert isinstance(member.tag, str)
        tags.append(member.tag)
    return tags


# --- the error-code table ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodeRow:
    code: str
    group: str  # the comment that heads the code's group in the source, "" when none
    meaning: str  # the comment beside the code in the source, "" when none


_MEMBER_LINE: Final = re.compile(
    r"^\s*(?P<key>[A-Z][A-Z0-9_]*)\s*=\s*(?:\"[^\"]*\"|\d+)\s*(?:#\s*(?P<comment>.*))?$"
)
_TUPLE_ITEM_LINE: Final = re.compile(
    r"^\s*\"(?P<key>[a-z0-9_]+)\"\s*,?\s*(?:#\s*(?P<comment>.*))?$"
)
_COMMENT_LINE: Final = re.compile(r"^\s*#\s?(.*)$")


def _commented_lines(source: str, item: re.Pattern[str]) -> dict[str, tuple[str, str]]:
    """For each item line of ``source``: (its group heading, its trailing comment). A group
    heading is the run of comment lines above a group of items."""
    found: dict[str, tuple[str, str]] = {}
    heading: list[str] = []
    group = ""
    after_item = True
    for line in source.splitlines():
        comment = _COMMENT_LINE.match(line)
        if comment:
            if after_item:
                heading = []
                after_item = False
            heading.append(comment.group(1).strip())
            continue
        match = item.match(line)
        if match:
            if heading:
                group = " ".join(heading)
                heading = []
            after_item = True
            found.setdefault(match["key"], (group, (match["comment"] or "").strip()))
    return found


def _enum_rows(enum_type: type[enum.Enum]) -> list[CodeRow]:
    """Every member of the enum, explained by the comments next to it in its source."""
    try:
        source = inspect.getsource(enum_type)
    except (OSError, TypeError):  # no source (a frozen build): codes without their comments
        source = ""
    commented = _commented_lines(source, _MEMBER_LINE)
    rows = []
    for member in enum_type:
        group, meaning = commented.get(member.name, ("", ""))
        rows.append(CodeRow(code=str(member.value), group=group, meaning=meaning))
    return rows


def _tuple_rows(module: ModuleType, name: str, codes: tuple[str, ...]) -> list[CodeRow]:
    """The codes of a module-level tuple (duplicates once), explained by their comments."""
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        source = ""
    start = source.find(f"\n{name}")
    block = ""
    if start >= 0:
        end = source.find("\n)", start)
        block = source[start : end if end >= 0 else len(source)]
    commented = _commented_lines(block, _TUPLE_ITEM_LINE)
    rows = []
    for code in dict.fromkeys(codes):
        group, meaning = commented.get(code, ("", ""))
        rows.append(CodeRow(code=code, group=group, meaning=meaning))
    return rows


def error_code_rows() -> list[CodeRow]:
    """The gateway's own codes (protocol/errors.py ErrorCode)."""
    return _enum_rows(errors.ErrorCode)


def game_error_code_rows() -> list[CodeRow]:
    """The lobby's, tables' and engine's codes (protocol/game.py GAME_ERROR_CODES)."""
    return _tuple_rows(game, "GAME_ERROR_CODES", tuple(game.GAME_ERROR_CODES))


def close_code_rows() -> list[CodeRow]:
    return _enum_rows(errors.CloseCode)


def _cell(text: str) -> str:
    return text.replace("|", "\\|") or "—"


def _grouped_tables(
    rows: list[CodeRow], header: str, default_group: str, shown: Callable[[CodeRow], str]
) -> list[str]:
    """One small table per group, under the group's heading, in source order."""
    lines: list[str] = []
    group: str | None = None
    for row in rows:
        row_group = row.group or default_group
        if row_group != group:
            group = row_group
            lines += [
                "",
                f"### {row_group.rstrip(':')}",
                "",
                f"| {header} | meaning |",
                "|---|---|",
            ]
        lines.append(f"| {shown(row)} | {_cell(row.meaning)} |")
    return lines


def errors_markdown() -> str:
    """docs/errors.md: every error code and close code the server may send."""
    gateway = error_code_rows()
    gateway_codes = {row.code for row in gateway}
    games = game_error_code_rows()
    closes = close_code_rows()
    names = {member.value: member.name.lower() for member in errors.CloseCode}
    out = [
        "# Error codes and close codes",
        "",
        "<!-- Generated from protocol/errors.py and protocol/game.py by"
        " `python -m server.commands.schema write`; do not edit. -->",
        "",
        "Every `error` frame carries one of these stable codes in `code` (`error.message` is"
        " for people and may change). A code is never renamed or reused; new ones may be"
        " added, so a client treats a code it does not know as a generic failure of that"
        " request. The explanations are the comments beside each code in the source (—"
        " where a code has none yet); [protocol.md](protocol.md) (section 8) and"
        " [game-protocol.md](game-protocol.md) say more about when each one comes.",
        "",
        f"## The gateway's codes ({len(gateway)}, `protocol/errors.py` `ErrorCode`)",
        *_grouped_tables(gateway, "code", "Other", lambda row: f"`{row.code}`"),
        "",
        f"## Game codes ({len(games)}, `protocol/game.py` `GAME_ERROR_CODES`)",
        "",
        "Refusals of lobby, table and hand requests by the lobby, a table or the rules engine,"
        " passed through unchanged. A buy-in or top-up refused by the wallet keeps the"
        " wallet's code from the table above (`insufficient_funds`, `limit_exceeded`, ...).",
        "",
        *_grouped_tables(
            games,
            "code",
            "The lobby's and tables' refusals",
            lambda row: (
                f"`{row.code}`" + (" (also a gateway code)" if row.code in gateway_codes else "")
            ),
        ),
        "",
        f"## Websocket close codes ({len(closes)}, `protocol/errors.py` `CloseCode`)",
        *_grouped_tables(
            closes, "close code", "Closes", lambda row: f"{row.code} `{names[int(row.code)]}`"
        ),
        "",
        "Whether to reconnect after each close: [protocol.md](protocol.md), section 7.",
        "",
    ]
    return "\n".join(out)
