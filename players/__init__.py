"""The player service's pure core: statistics, experience and levels, leaderboard formulas,
profile and preference rules. No I/O, no clock, no randomness (like poker/): the store and
the services feed it finished hands and requests and persist what it returns.
"""
