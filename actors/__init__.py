"""The live system: the actor runtime (``actors.runtime``) and one module per actor kind."""
