"""The terms a table deals its next hand with (blinds, ante, bets, rake): its ``Stakes``.

- :class:`FixedStakes` (a cash table): its config's, built once when the table starts, not
  rebuilt every hand. ``SetStakes`` is refused (``invalid_stakes``): an operator opens a
  table at other stakes instead.
- :class:`SuppliedStakes` (a table with an owner: a tournament's): the owner supplies them
  for each level with ``SetStakes``; from the next hand dealt on, never the running one. They
  are kept in the durable config (``TableState.config``), so a restarted table deals at
  the level it was told last.

Pure: no I/O.
"""

from __future__ import annotations

from typing import Protocol, final

import msgspec

from actors.table.config import TableConfig
from actors.table.messages import GameRefused
from poker import HandConfig


class Stakes(Protocol):
    def hand_config(self) -> HandConfig:
        """The next hand's terms."""

    def set(self, small_blind: int, big_blind: int, ante: int) -> TableConfig:
        """New blinds and ante from the next hand on: the table's config with them (to store).
        Raises GameRefused ``invalid_stakes`` (nothing changed) when refused."""


def stakes_for(config: TableConfig) -> Stakes:
    return FixedStakes(config) if config.owner is None else SuppliedStakes(config)


@final
class FixedStakes:
    """A cash table's stakes: its config's, for its whole life."""

    def __init__(self, config: TableConfig) -> None:
        self._hand = config.hand_config()

    def hand_config(self) -> HandConfig:
        return self._hand

    def set(self, small_blind: int, big_blind: int, ante: int) -> TableConfig:
        raise GameRefused("invalid_stakes", "a cash table plays the stakes it was opened with")


@final
class SuppliedStakes:
    """An owner's table: the stakes its owner told it last."""

    def __init__(self, config: TableConfig) -> None:
        self._config = config
        self._hand = config.hand_config()

    def hand_config(self) -> HandConfig:
        return self._hand

    def set(self, small_blind: int, big_blind: int, ante: int) -> TableConfig:
        try:
            config = msgspec.structs.replace(
                self._config, small_blind=small_blind, big_blind=big_blind, ante=ante
            )
            config.__post_init__()  # replace() runs no checks: the config's own, then the engine's
        except ValueError as exc:  # the engine's InvalidSetup is a ValueError too
            raise GameRefused("invalid_stakes", str(exc)) from exc
        self._config, self._hand = config, config.hand_config()
        return config
