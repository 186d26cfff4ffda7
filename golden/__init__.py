"""deja's specification in NumPy: configuration, blocks, the reuse engine and its cycle model.

Pure: imports neither amaranth nor cocotb. hw/ implements exactly what is written here.
"""

from .config import ConfigError, EngineConfig, DEFAULT
from .layer_config import LayerConfig, check_weights
from .programme import config_writes, network_writes
from .quantizer import quantize, thresholds, quantization_table, linear_centroids
from .perf_counters import Counters
from .engine import (RunResult, ReuseEngine, full_recompute, baseline_layer, golden_run,
                     golden_network_run)
from .stream_pattern import Pattern
from .cycle_model import schedule, schedule_network, busy_cycles, cycle_bound
from .sequences import similar_frames

__all__ = [
    "ConfigError", "EngineConfig", "LayerConfig", "DEFAULT", "check_weights", "config_writes",
    "network_writes",
    "quantize", "thresholds", "quantization_table", "linear_centroids",
    "Counters", "RunResult", "ReuseEngine", "full_recompute", "baseline_layer", "golden_run",
    "golden_network_run",
    "Pattern", "schedule", "schedule_network", "busy_cycles", "cycle_bound", "similar_frames",
]
