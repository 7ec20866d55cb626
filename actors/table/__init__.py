"""The table: one actor for every game mode (cash, tournament, club), one job per module.

Nothing is imported here, so that importing one module of the package (the messages, say)
never loads the actor and the runtime with it. See docs/actors.md for the map.
"""
