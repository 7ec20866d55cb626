"""The room's nodes for operators (docs/scaling.md): each live node with its load and the
table leases it holds, from the records the nodes keep in Redis.

Refusal: ``cluster_unreachable`` (503) when Redis does not answer.
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct
from quart import Blueprint

from admin.auth import error, requires
from admin.context import current_context
from admin.permissions import Permission
from persistence.redis_link import RedisDown
from server.cluster import NodeView

cluster_routes = Blueprint("cluster", __name__)


class Cluster(Struct, frozen=True):
    clustered: bool  # false: no Redis configured, this process is the whole room
    node: str | None  # the node that answers (null when not clustered)
    nodes: list[NodeView]  # every live node by name: empty when not clustered
    # The answering node's placement: each node's load as it counts it for new tables
    # (docs/scaling.md, "Placement"); empty when not clustered.
    placement: dict[str, int] = {}


@cluster_routes.get("/cluster")
@requires(Permission.ACTORS_READ)
async def cluster() -> Any:
    """The nodes of the room, their load and their table leases."""
    view_of = current_context().cluster
    if view_of is None:
        return Cluster(clustered=False, node=None, nodes=[])
    try:
        view = await view_of()
    except RedisDown as exc:
        return error(503, "cluster_unreachable", f"Redis does not answer: {exc}")
    return Cluster(clustered=True, node=view.node, nodes=view.nodes, placement=view.placement)
