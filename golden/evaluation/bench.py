"""Throughput of the golden reuse model against a dense float32 NumPy layer, in one run."""

import time

import numpy as np

from ..config import EngineConfig
from ..engine import ReuseEngine
from ..layer_config import LayerConfig
from ..quantizer import linear_centroids
from ..sequences import similar_frames

__all__ = ["bench_golden"]


def _rate(fn, frames, min_time=0.5):
    """Frames per second of ``fn(frame)`` over the sequence, repeated for at least min_time."""
    count, start = 0, time.perf_counter()
    while True:
        for x in frames:
            fn(x)
        count += len(frames)
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return count / elapsed


def bench_golden(inputs=360, outputs=2000, clusters=32, similarity=0.5, frames=100, seed=0):
    config = EngineConfig(lanes=16, max_inputs=max(512, inputs), max_outputs=max(2048, outputs))
    rng = np.random.default_rng(seed)
    layer = LayerConfig(
        inputs, outputs,
        linear_centroids(config.act_min, config.act_max, clusters, config.act_width))
    weights = rng.integers(config.weight_min, config.weight_max + 1, (inputs, outputs))
    bias = rng.integers(-1000, 1000, outputs)
    x = similar_frames(frames, inputs, similarity, layer.centroids, config.act_width, seed=seed)

    model = ReuseEngine(config, layer, weights, bias)
    model.step(x[0])
    step_fps = _rate(model.step, x[1:])
    # the sequence API (ReuseEngine.run, what golden_run and evaluations use) takes all frames
    sequence_fps = _rate(lambda seq: model.run(seq), [x[1:]]) * (len(x) - 1)
    w32 = weights.astype(np.float32)
    b32 = bias.astype(np.float32)
    x32 = x.astype(np.float32)
    dense_fps = _rate(lambda v: v @ w32 + b32, x32[1:])
    dense_batch_fps = _rate(lambda seq: seq @ w32 + b32, [x32[1:]]) * (len(x) - 1)
    model.start_sequence()
    _, changed = model.run(x)
    measured = 1 - changed[1:].mean()
    return {
        "layer": f"FC {inputs}x{outputs}",
        "clusters": clusters,
        "similarity_requested": similarity,
        "similarity_measured": float(measured),
        "frames": frames,
        "golden_frames_per_second": sequence_fps,
        "golden_step_frames_per_second": step_fps,
        "dense_float32_frames_per_second": dense_fps,
        "dense_float32_batched_frames_per_second": dense_batch_fps,
        "ratio_golden_over_dense": sequence_fps / dense_fps,
        "ratio_golden_over_dense_batched": sequence_fps / dense_batch_fps,
    }
