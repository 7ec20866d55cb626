"""One definition of every table and chip limit, for every surface that checks one.

The wire (protocol/game.py, protocol/messages.py), the admin API (admin/tables.py), the
server's settings (server/config.py), the ledger (services/wallet.py) and the table's own
config (actors/table/messages.py) import their bounds from here, so a limit cannot drift
between surfaces (once ``CHIPS_MAX`` was 10**12 in one and 10**15 in another, ``rake_bp``
bounded at 1,000 and at 10,000). The rules engine (poker/config.py) takes ``SEATS_MAX`` from
here as well. No imports: any layer may import this module.
"""

from __future__ import annotations

import re
from typing import Final

# The ledger's largest amount: a balance, a transfer, a stack, a blind or a buy-in. Sums of
# a few of them still fit a signed 64-bit column.
CHIPS_MAX: Final = 10**15

# A tournament's chips and money amounts have their own bound, 10**12, in the pure tournament
# core (poker/tournament/structure.py CHIPS_MAX, which imports nothing from here); its actor,
# tables and the admin API import it from there.

# A rakeback tier's threshold, in points (rakeback/tiers.py and the wire's tier record).
POINTS_MAX: Final = 10**15

# Tables one process runs (its lobby's bound): an operator's or a quick seat's new table
# beyond it is refused ``too_many_tables``. 10,000 players at 6-max need about 1,700. A
# player's listing is cut to protocol/game.py's TABLES_LISTED_MAX; a staff listing is not.
TABLES_OPEN_MAX: Final = 2_000

SEATS_MIN: Final = 2
SEATS_MAX: Final = 10  # seats are numbered 0..SEATS_MAX - 1

# A table's rake, in basis points of the pot: at most the whole pot (the engine's bound).
BASIS_POINTS: Final = 10_000
RAKE_BP_MAX: Final = BASIS_POINTS

# A table id names its actor (table:<id>) and its ledger account (escrow:table:<id>). An id
# a table is opened under matches TABLE_ID_PATTERN (at most TABLE_ID_OPEN_CHARS_MAX chars);
# quick-seat appends "-q<n>" to a template's id, which stays within TABLE_ID_CHARS_MAX, the
# bound on any table id a message carries.
TABLE_ID_CHARS_MAX: Final = 64
TABLE_ID_OPEN_CHARS_MAX: Final = 48
TABLE_ID_PATTERN_TEXT: Final = rf"^[A-Za-z0-9][A-Za-z0-9_.-]{{0,{TABLE_ID_OPEN_CHARS_MAX - 1}}}$"
TABLE_ID_PATTERN: Final = re.compile(TABLE_ID_PATTERN_TEXT)
TABLE_NAME_CHARS_MAX: Final = 64
