"""The network side of deja: whole networks (a float graph and its integer version with
reuse), their lowering to the engine's layers, and the registry of built-in networks."""
