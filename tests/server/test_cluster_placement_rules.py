"""TablePlacement's choice from the room's records, without processes (docs/scaling.md,
"Placement"): fewest seated players first, then fewest tables, then the name; ties stay on
the node asked; tables placed since a node's record count until its next record; a draining
node is never chosen and places elsewhere."""

from __future__ import annotations

from server.cluster import NodeView
from server.cluster_placement import PLACED_TABLE_SEATS, TablePlacement


def _view(
    node: str, *, seated: int, tables: int, seen_at_ms: int = 1, draining: bool = False
) -> NodeView:
    return NodeView(
        node=node,
        started_at_ms=0,
        seen_at_ms=seen_at_ms,
        sessions=0,
        connections=0,
        tables=tables,
        leases=[],
        draining=draining,
        seated=seated,
    )


def test_the_node_with_the_fewest_seated_players_then_tables_is_chosen() -> None:
    own: set[str] = {"t1", "t2"}
    placement = TablePlacement("a", lambda: own)
    assert placement.choose() is None  # alone: here
    placement.update([_view("a", seated=0, tables=2), _view("b", seated=0, tables=5)])
    assert placement.choose() is None  # b holds more tables, nobody seated: here
    placement.update([_view("b", seated=0, tables=1), _view("c", seated=0, tables=1)])
    assert placement.choose() == "b"  # fewer tables than here; b and c tie: by name
    placement.placed("b")
    assert placement.choose() == "c"  # b's placed table counts until b's next record
    assert placement.loads() == {"a": 0, "b": PLACED_TABLE_SEATS, "c": 0}
    placement.update([_view("b", seated=0, tables=1, seen_at_ms=2), _view("c", seated=0, tables=1)])
    assert placement.loads()["b"] == 0  # b's new record covers what was placed there
    placement.update([_view("b", seated=9, tables=0), _view("c", seated=3, tables=0)])
    assert placement.choose() is None  # players cost, idle tables do not: here (0 seated)


def test_a_draining_node_is_never_chosen_and_places_elsewhere() -> None:
    placement = TablePlacement("a", set)
    placement.update([_view("b", seated=0, tables=0, draining=True)])
    assert placement.choose() is None
    assert not placement.live("b")
    placement.update([_view("b", seated=50, tables=10)])
    assert placement.choose() is None  # busier than here
    placement.draining = lambda: True
    assert placement.choose() == "b"  # draining: anywhere else
