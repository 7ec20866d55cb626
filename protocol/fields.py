"""Field types shared by every message module (messages.py, game.py), kept apart so that
messages.py can build the protocol's unions from game.py without an import cycle."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

RequestId = Annotated[int, Meta(ge=0, le=2**32 - 1)]
Seq = Annotated[int, Meta(ge=0, le=2**63 - 1)]
# What chips are: "chips" is real money (the default everywhere), "play" is play money, which
# a player gets for nothing. A table, tournament, balance or transfer is of one asset.
Asset = Literal["chips", "play"]
