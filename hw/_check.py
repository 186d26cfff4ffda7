from golden.config import EngineConfig


def check_config(config):
    """Components take the one :class:`golden.EngineConfig`; reject anything else by name."""
    if not isinstance(config, EngineConfig):
        raise TypeError(f"config must be a golden.EngineConfig, not {config!r}")
    return config
