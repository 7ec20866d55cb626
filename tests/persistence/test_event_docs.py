"""docs/events.md's catalogue is generated from persistence/events.py: it must not drift."""

from __future__ import annotations

import re

from persistence.events import EVENT_TYPES
from persistence.events_doc import DOC_PATH, events_markdown


def test_checked_in_event_catalogue_matches_the_definitions() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == events_markdown(), "run `make schema`"


def test_catalogue_lists_every_type_and_every_payload_field() -> None:
    text = events_markdown()
    for definition in EVENT_TYPES:
        assert f"### `{definition.name}`" in text
        for field in definition.payload.__struct_fields__:
            assert f"| `{field}` |" in text, (definition.name, field)


def test_every_type_names_its_aggregate_kind_and_what_happened() -> None:
    for definition in EVENT_TYPES:
        assert re.fullmatch(r"[a-z]+\.[a-z_]+", definition.name), definition.name
