"""Public player profiles."""

from __future__ import annotations

from typing import Final

import msgspec

from api.problems import ApiProblem
from api.routes.common import EXAMPLE_TIME_MS, RowId
from api.routing import Call, Reply, RouteTable
from services.api_keys import Scope
from services.profiles import PublicProfile, public_profile

routes = RouteTable()

PROFILE_CACHE_CONTROL: Final = "public, max-age=60"


@routes.operation(
    operation_id="getPlayer",
    method="GET",
    path="/v1/players/{player_id}",
    summary="A player's public profile",
    description="Public: no credential needed (one that is sent must be valid and have"
    " `players:read`). Cacheable for a minute; If-None-Match answers 304.",
    tag="players",
    response=PublicProfile,
    example=msgspec.to_builtins(
        PublicProfile(43, "bob", EXAMPLE_TIME_MS, display_name="bob", country="DE", level=3)
    ),
    scope=Scope.PLAYERS_READ,
    auth="optional",
    path_params={"player_id": RowId},
    cache_control=PROFILE_CACHE_CONTROL,
)
async def get_player(call: Call) -> Reply:
    player_id: int = call.path["player_id"]
    profile = await public_profile(call.context.store, player_id)
    if profile is None:
        raise ApiProblem("not_found", f"no player with id {player_id}")
    return Reply(profile)
