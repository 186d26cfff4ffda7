"""deja's specification in NumPy: configuration, blocks, the reuse engine and its cycle model.

Pure: imports neither amaranth nor cocotb. hw/ implements exactly what is written here.
"""

from .config import DEFAULT, ConfigError, EngineConfig
from .cycle_model import busy_cycles, cycle_bound, schedule, schedule_network
from .engine import (
                     ReuseEngine,
                     RunResult,
                     baseline_layer,
                     full_recompute,
                     golden_network_run,
                     golden_run,
)
from .layer_config import LayerConfig, check_weights
from .perf_counters import Counters
from .programme import config_writes, network_writes
from .quantizer import linear_centroids, quantization_table, quantize, thresholds
from .sequences import similar_frames
from .stream_pattern import Pattern

__all__ = [
    "ConfigError", "EngineConfig", "LayerConfig", "DEFAULT", "check_weights", "config_writes",
    "network_writes",
    "quantize", "thresholds", "quantization_table", "linear_centroids",
    "Counters", "RunResult", "ReuseEngine", "full_recompute", "baseline_layer", "golden_run",
    "golden_network_run",
    "Pattern", "schedule", "schedule_network", "busy_cycles", "cycle_bound", "similar_frames",
]
