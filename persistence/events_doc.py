"""The event catalogue of docs/events.md, rendered from persistence/events.py.

docs/events.md is prose written by hand around one generated section, between the two marker
lines below; ``python -m server.commands.schema write`` (``make schema``) renders it, and the
test suite fails when the checked-in section differs from the definitions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import msgspec

from persistence.events import EVENT_TYPES, EventType

BEGIN: Final = "<!-- BEGIN GENERATED: event catalogue (make schema) -->"
END: Final = "<!-- END GENERATED: event catalogue -->"
DOC_PATH: Final = Path(__file__).resolve().parents[1] / "docs" / "events.md"


def _type_name(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(_type_name(s, defs) for s in schema["anyOf"])
    kind = schema.get("type")
    if kind == "array":
        return f"list of {_type_name(schema.get('items', {}), defs)}"
    if kind == "object":
        values = schema.get("additionalProperties")
        return f"map to {_type_name(values, defs)}" if isinstance(values, dict) else "object"
    return str(kind)


def _fields(payload: type[msgspec.Struct]) -> list[tuple[str, str, str]]:
    (schema,), components = msgspec.json.schema_components([payload])
    body = components[schema["$ref"].rsplit("/", 1)[-1]]
    rows = []
    for name, field in body["properties"].items():
        rows.append((name, _type_name(field, components), field.get("description", "")))
        ref = field.get("$ref") or field.get("items", {}).get("$ref")
        if ref:  # a nested record (a hand's per-player results): its fields, indented
            nested = components[ref.rsplit("/", 1)[-1]]
            for sub, sub_field in nested["properties"].items():
                rows.append(
                    (
                        f"{name}[].{sub}",
                        _type_name(sub_field, components),
                        sub_field.get("description", ""),
                    )
                )
    return rows


def _section(definition: EventType) -> list[str]:
    doc = (definition.payload.__doc__ or "").strip().replace("``", "`")
    if definition.emitted:
        status = f"written by {definition.written_by}"
    else:
        status = f"not written yet: {definition.written_by}"
    lines = [
        f"### `{definition.name}`",
        "",
        f"{doc} Version {definition.version}; aggregate `{definition.aggregate_kind}:<id>`;"
        f" {status}.",
        "",
        "| field | type | meaning |",
        "|---|---|---|",
    ]
    for name, kind, meaning in _fields(definition.payload):
        lines.append(f"| `{name}` | {kind} | {meaning} |")
    lines.append("")
    return lines


def catalogue() -> str:
    lines = [BEGIN, "", "| type | version | aggregate | written |", "|---|---|---|---|"]
    for d in EVENT_TYPES:
        written = "yes" if d.emitted else "not yet"
        lines.append(
            f"| [`{d.name}`](#{d.name.replace('.', '')}) | {d.version} |"
            f" `{d.aggregate_kind}:<id>` | {written} |"
        )
    lines.append("")
    for d in EVENT_TYPES:
        lines.extend(_section(d))
    lines.append(END)
    return "\n".join(lines)


def render(current: str) -> str:
    """``current`` with its generated section replaced by the catalogue of the code."""
    head, found, rest = current.partition(BEGIN)
    if not found:
        raise ValueError(f"docs/events.md lacks the marker line {BEGIN!r}")
    _, found, tail = rest.partition(END)
    if not found:
        raise ValueError(f"docs/events.md lacks the marker line {END!r}")
    return head + catalogue() + tail


def events_markdown() -> str:
    return render(DOC_PATH.read_text(encoding="utf-8"))
