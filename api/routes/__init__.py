"""The public API's route modules; ``all_routes`` is every RouteTable, in the spec's order.

Each later feature (tournaments, clubs, rakeback, chain) adds its module here."""

from __future__ import annotations

from api.routing import RouteTable
from api.shortcut import CurrentTag


def all_routes() -> list[RouteTable]:
    from api.routes import (
        auth,
        cashier,
        clubs,
        hands,
        limits,
        lobby,
        me,
        players,
        profiles,
        statements,
        wallet,
    )

    return [
        auth.routes, me.routes, wallet.routes, statements.routes, limits.routes, cashier.routes,
        lobby.routes, hands.routes, players.routes, profiles.routes, clubs.routes,
    ]  # fmt: skip


def current_tags() -> dict[str, CurrentTag]:
    """Paths whose 304s api/shortcut.py may answer from the cache, and how it finds their
    current ETag."""
    from api.routes import lobby

    return {"/v1/lobby/tables": lobby.current_tag}
