"""Rakeback arithmetic, pure: periods, attribution of rake to players, tiers, agent commission
and a period's settlement (who gets how many chips, and where every remainder stays).

No I/O, no clock, no randomness: services/rakeback.py reads hand records and ledger entries,
feeds them here, and turns the settlement into ledger transfers. docs/rakeback.md gives the
rules and formulas in prose; the docstrings here are the same rules next to the code.
"""
