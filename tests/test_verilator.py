"""Verification level 3: the generated Verilog under cocotb (Verilator; Icarus when installed).

The engine matrix of tests/test_engine.py, reduced: four engine builds (shared by every test of
the same configuration, built once per checkout under build/sim/ and locked against concurrent
pytest-xdist workers), each run with no stalls, a fixed bubble/backpressure pattern and seeded
random stalls at 50 %. The testbench checks every frame's outputs, counters and beat cycles
against golden and its cycle model; these tests also check what it returns against independent
references (full recompute, the plain matrix product) and that it does catch injected faults.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from golden import (
    EngineConfig,
    LayerConfig,
    Pattern,
    baseline_layer,
    full_recompute,
    golden_network_run,
    golden_run,
    linear_centroids,
    similar_frames,
)
from golden.output_unit import output_unit
from sim.runner import available, run_case
from sim.tb_engine import make_pattern, pattern_spec

CONFIGS = {
    "L1-base": EngineConfig(lanes=1, max_inputs=32, max_outputs=32, reuse=False),
    "L4-reuse": EngineConfig(lanes=4, max_inputs=32, max_outputs=32),
    "L4-base": EngineConfig(lanes=4, max_inputs=32, max_outputs=32, reuse=False),
    "L16-reuse": EngineConfig(lanes=16, max_inputs=32, max_outputs=32),
}
STALLS = {
    "none": (pattern_spec("none"), pattern_spec("none")),
    "fixed": (pattern_spec("fixed", bits=[1, 1, 1, 0]), pattern_spec("fixed", bits=[0, 1])),
    "random": (pattern_spec("random", 5, 0.5), pattern_spec("random", 6, 0.5)),
}


def needs(simulator):
    ok, reason = available(simulator)
    return pytest.mark.skipif(not ok, reason=reason)


def make_case(config, clusters, inputs, outputs, seed):
    rng = np.random.default_rng(seed)
    layer = LayerConfig(inputs, outputs, linear_centroids(-128, 127, clusters, 8),
                        activation=["relu", "none"][seed % 2], shift=int(rng.integers(4, 12)))
    weights = rng.integers(-128, 128, (inputs, outputs))
    bias = rng.integers(-20000, 20000, outputs)
    return layer, weights, bias


def sequence(layer, weights, bias, frames, stall="none", **extra):
    valid, ready = STALLS[stall]
    return {"layer": layer, "weights": weights, "bias": bias,
            "phases": [{"frames": frames, "input_valid": valid, "output_ready": ready, **extra}]}


MATRIX = [(name, stall, clusters, similarity)
          for k, name in enumerate(CONFIGS)
          for j, stall in enumerate(STALLS)
          for clusters, similarity in [[(2, 0.5), (16, 0.95), (32, 0.0), (32, 1.0)][(k + j) % 4]]]


@pytest.mark.parametrize("name, stall, clusters, similarity", MATRIX,
                         ids=[f"{n}-{s}-C{c}-S{int(p * 100)}" for n, s, c, p in MATRIX])
@pytest.mark.slow
def test_engine_matrix_on_verilator(name, stall, clusters, similarity):
    config = CONFIGS[name]
    seed = clusters + int(similarity * 10) + len(name)
    layer, weights, bias = make_case(config, clusters, 13, 19, seed)
    x = similar_frames(6, layer.inputs, similarity, layer.centroids, 8, seed=seed)
    report = run_case(config, sequence(layer, weights, bias, x, stall), "verilator", outputs=True)
    assert report["mismatches"] == 0, report["first_mismatch"]
    assert report["frames"] == 6
    # independent of the testbench's own checks: golden and the plain references
    valid, ready = (make_pattern(spec) for spec in STALLS[stall])
    expected = golden_run(config, layer, weights, bias, x, input_valid=valid, output_ready=ready,
                          trace=False)
    assert np.array_equal(report["outputs"][0], expected.outputs)
    assert report["counters"] == [c.as_dict() for c in expected.counters]
    if config.reuse:
        assert report["preactivation_tap"]
        assert np.array_equal(report["preactivations"][0], full_recompute(layer, weights, bias, x))
    else:
        assert np.array_equal(expected.preactivations, baseline_layer(weights, bias, x))
    if stall == "none":
        assert all(c["stall_cycles"] == 0 for c in report["counters"][2:])


def test_verilator_2000_frames_bit_identical():
    """Long run: the Verilog == golden == full recompute for 2,000 frames with random stalls."""
    config = CONFIGS["L4-reuse"]
    layer, weights, bias = make_case(config, 32, 24, 10, seed=11)
    x = similar_frames(2000, 24, 0.8, layer.centroids, 8, seed=3)
    report = run_case(config, sequence(layer, weights, bias, x, "random"), "verilator",
                      outputs=True)
    assert report["mismatches"] == 0, report["first_mismatch"]
    assert report["frames"] == 2000
    z = full_recompute(layer, weights, bias, x)
    assert np.array_equal(report["preactivations"][0], z)
    assert np.array_equal(report["outputs"][0],
                          output_unit(z, layer.activation, layer.shift, config.act_width))
    stalls = dict(input_valid=Pattern(0.5, 5), output_ready=Pattern(0.5, 6))
    expected = golden_run(config, layer, weights, bias, x, trace=False, **stalls)
    assert report["cycles_per_frame"] == [c.cycles + c.stall_cycles for c in expected.counters]


def test_reset_mid_frame_then_new_sequence():
    """Reset in the middle of a frame's scan; a new sequence afterwards still matches golden."""
    config = CONFIGS["L4-reuse"]
    layer, weights, bias = make_case(config, 16, 24, 10, seed=4)
    x = similar_frames(40, 24, 0.7, layer.centroids, 8, seed=5)
    y = similar_frames(30, 24, 0.7, layer.centroids, 8, seed=6)
    case = sequence(layer, weights, bias, x, "random", reset_after=[10, 12])
    case["phases"].append({"frames": y, "input_valid": STALLS["fixed"][0],
                           "output_ready": STALLS["random"][1]})
    report = run_case(config, case, "verilator", outputs=True)
    assert report["mismatches"] == 0, report["first_mismatch"]
    first, second = report["phases"]
    assert 8 <= first["frames"] < 40            # cut off by the reset
    assert second["frames"] == 30 and second["expected_left"] == 0
    assert np.array_equal(report["preactivations"][1], full_recompute(layer, weights, bias, y))


@pytest.mark.parametrize("inject, what", [
    ({"bias": [3, 1]}, {"output", "preactivation"}),
    ({"output_ready": pattern_spec("fixed", bits=[0, 0, 1])},
     {"beat cycle", "counter stall_cycles"}),
])
def test_testbench_catches_injected_faults(inject, what):
    """The checker is not vacuous: a DUT loaded with a different bias, or seeing different
    backpressure than the model, is reported with the first mismatching frame."""
    config = CONFIGS["L4-reuse"]
    layer, weights, bias = make_case(config, 16, 13, 19, seed=2)
    x = similar_frames(4, 13, 0.5, layer.centroids, 8, seed=2)
    report = run_case(config, sequence(layer, weights, bias, x, "none", inject=inject), "verilator")
    assert report["mismatches"] > 0
    assert report["first_mismatch"]["what"] in what
    if "bias" in inject:
        assert report["first_mismatch"]["frame"] == 0
        assert report["first_mismatch"]["index"] == 3


@pytest.mark.parametrize("stall", ["none", "random"])
@needs("icarus")
def test_engine_on_icarus(stall):
    config = CONFIGS["L4-reuse"]
    layer, weights, bias = make_case(config, 16, 13, 19, seed=7)
    x = similar_frames(4, 13, 0.8, layer.centroids, 8, seed=7)
    report = run_case(config, sequence(layer, weights, bias, x, stall), "icarus", outputs=True)
    assert report["mismatches"] == 0, report["first_mismatch"]
    assert np.array_equal(report["preactivations"][0], full_recompute(layer, weights, bias, x))


# ---- deja sim --------------------------------------------------------------------------------

SMALL = ["--lanes", "4", "--max-inputs", "32", "--max-outputs", "32"]    # = CONFIGS["L4-reuse"]


def deja(*args, env=None):
    return subprocess.run([sys.executable, "-m", "deja", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONWARNINGS": "error", **(env or {})})


def test_cli_sim_verilator_with_stalls():
    r = deja("sim", "--simulator", "verilator", *SMALL, "--frames", "40", "--stall", "0.5",
             "--json")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["mismatches"] == 0 and result["first_mismatch"] is None
    assert result["frames"] == 40 and len(result["cycles_per_frame"]) == 40
    assert result["totals"]["stall_cycles"] > 0 and result["cycles_per_second"] > 0
    assert result["totals"]["inputs_scanned"] == 40 * 32


@pytest.mark.slow
def test_cli_sim_inputs_file_and_waves(tmp_path):
    config = CONFIGS["L4-reuse"]
    x = similar_frames(5, 20, 0.5, linear_centroids(-128, 127, 16, 8), 8, seed=1)
    np.save(tmp_path / "x.npy", x)
    waves = tmp_path / "engine.vcd"
    r = deja("sim", "--simulator", "verilator", *SMALL, "--inputs", str(tmp_path / "x.npy"),
             "--waves", str(waves), "--json")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["mismatches"] == 0 and result["frames"] == 5
    assert result["layer"]["inputs"] == 20 and result["engine"] == config.to_dict()
    text = waves.read_text()
    assert "$enddefinitions" in text and "i_stream__valid" in text


def test_cli_sim_fst_waves_or_clear_error(tmp_path):
    """FST from Verilator needs the lz4 headers: a waveform when they are there, else one line."""
    from sim.runner import _have_header
    waves = tmp_path / "engine.fst"
    r = deja("sim", "--simulator", "verilator", *SMALL, "--frames", "3", "--waves", str(waves))
    if _have_header("lz4.h"):
        assert r.returncode == 0, r.stderr
        assert waves.read_bytes()[:1] == b"\x00"        # FST header block
    else:
        assert r.returncode == 2 and r.stdout == ""
        assert r.stderr.strip() == ("deja sim: error: verilator writes FST through lz4, whose "
                                    "headers are not installed (e.g. apt-get install "
                                    "liblz4-dev): use a .vcd file")
        assert list(tmp_path.iterdir()) == []


def test_cli_sim_amaranth_agrees_with_verilator():
    common = [*SMALL, "--frames", "6", "--stall", "0.3", "--seed", "3", "--json"]
    a = deja("sim", "--simulator", "amaranth", *common)
    v = deja("sim", "--simulator", "verilator", *common)
    assert a.returncode == 0 and v.returncode == 0, a.stderr + v.stderr
    a, v = json.loads(a.stdout), json.loads(v.stdout)
    assert a["mismatches"] == v["mismatches"] == 0
    assert a["cycles_per_frame"] == v["cycles_per_frame"] and a["counters"] == v["counters"]


@pytest.mark.parametrize("simulator, env, message", [
    ("icarus", None, "deja sim: error: icarus: iverilog is not on PATH"),
    ("verilator", {"PATH": "/nonexistent"},
     "deja sim: error: verilator needs make and a C++ compiler (g++) on PATH"),
])
def test_cli_sim_missing_simulator_is_one_line(tmp_path, simulator, env, message):
    if simulator == "icarus" and available("icarus")[0]:
        pytest.skip("iverilog is installed here")
    waves = tmp_path / "w.fst"
    r = deja("sim", "--simulator", simulator, *SMALL, "--waves", str(waves), env=env)
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), r.stderr
    assert not waves.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["--stall", "1"], "deja sim: error: --stall 1.0: allowed 0 <= P < 1"),
    (["--similarity", "0.5", "--inputs", "x.npy"],
     "deja sim: error: argument --inputs: not allowed with argument --similarity"),
    (["--inputs", "missing.npy"], "deja sim: error: --inputs missing.npy: no such file"),
    (["--simulator", "amaranth", "--waves", "w.fst"],
     "deja sim: error: --waves w.fst: amaranth writes .vcd files"),
])
def test_cli_sim_bad_arguments(args, message):
    r = deja("sim", *SMALL, *args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), r.stderr


@pytest.mark.slow
def test_bench_sim_json(request):
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("benchmark run: builds the default configuration; run with -m slow")
    r = deja("bench", "sim", "--frames", "10", "--json")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["mismatches"] == {"amaranth": 0, "verilator": 0} and result["same_cycles"]
    assert result["ratio_verilator_over_amaranth"] > 1


# ---- networks: the layer table under cocotb ----------------------------------------------------

def network_case(layers, frames, stall="none", **extra):
    valid, ready = STALLS[stall]
    return {"layers": layers,
            "phases": [{"frames": frames, "input_valid": valid, "output_ready": ready, **extra}]}


def run_network(config, layers, frames, stall):
    """Run a network on Verilator under a stall mode and check it against golden: no
    mismatch, every frame checked, the frame's and every layer's counters equal. Returns the
    report (its ``outputs`` for the test's own reference)."""
    report = run_case(config, network_case(list(layers), frames, stall), "verilator",
                      outputs=True)
    assert report["mismatches"] == 0, report["first_mismatch"]
    assert report["frames"] == len(frames) and report["phases"][0]["expected_left"] == 0
    valid, ready = (make_pattern(spec) for spec in STALLS[stall])
    expected = golden_network_run(config, layers, frames, input_valid=valid, output_ready=ready,
                                  trace=False)
    assert report["counters"] == [c.as_dict() for c in expected.counters]
    assert report["layer_counters"] == [[r.counters[f].as_dict() for r in expected.layers]
                                        for f in range(len(frames))]
    return report


def chain(config, layers, frames):
    """Independent reference of a network: each layer from scratch (full recompute for reuse
    layers, b + x W for baseline ones), then the output unit; returns the last layer's outputs
    and the pre-activations of the reuse layers side by side (what the tap sees)."""
    x, z_reuse = np.asarray(frames, dtype=np.int64), []
    for layer, w, b in layers:
        if config.reuse and layer.reuse:
            z = full_recompute(layer, w, b, x)
            z_reuse.append(z)
        else:
            z = baseline_layer(w, b, x)
        x = output_unit(z, layer.activation, layer.shift, config.act_width)
    return x, (np.concatenate(z_reuse, axis=1) if z_reuse else None)


def three_layers(seed=8):
    """A random 3-layer network on a 3-entry layer table; the middle layer in baseline mode."""
    rng = np.random.default_rng(seed)
    shapes, flags, clusters = [(13, 19), (19, 7), (7, 10)], [True, False, True], [16, 2, 32]
    layers = []
    for k, ((n, m), flag, c) in enumerate(zip(shapes, flags, clusters)):
        layer = LayerConfig(n, m, linear_centroids(-128, 127, c, 8),
                            activation=["relu", "none"][k % 2],
                            shift=int(rng.integers(6, 10)), reuse=flag)
        layers.append((layer, rng.integers(-128, 128, (n, m)), rng.integers(-3000, 3000, m)))
    config = EngineConfig(lanes=4, max_inputs=32, max_outputs=32, max_layers=3)
    return config, layers


@pytest.mark.parametrize("stall", list(STALLS))
@pytest.mark.slow
def test_three_layer_network_on_verilator(stall):
    """Reuse, baseline-mode and reuse layers chained on the layer table: outputs, counters,
    beat cycles and every reuse layer's pre-activations equal golden and the plain chain."""
    config, layers = three_layers()
    x = similar_frames(12, 13, 0.6, layers[0][0].centroids, 8, seed=len(stall))
    report = run_case(config, network_case(layers, x, stall), "verilator", outputs=True)
    assert report["mismatches"] == 0, report["first_mismatch"]
    assert report["frames"] == 12
    outputs, z = chain(config, layers, x)
    assert np.array_equal(report["outputs"][0], outputs)
    assert np.array_equal(report["preactivations"][0], z)
    assert z.shape == (12, 19 + 10)             # layers 0 and 2 reuse, layer 1 does not
    valid, ready = (make_pattern(spec) for spec in STALLS[stall])
    expected = golden_network_run(config, layers, x, input_valid=valid, output_ready=ready,
                                  trace=False)
    assert report["counters"] == [c.as_dict() for c in expected.counters]
    assert report["layer_counters"] == [[r.counters[f].as_dict() for r in expected.layers]
                                        for f in range(12)]
    assert [c["inputs_scanned"] for c in report["counters"]] == [13 + 19 + 7] * 12
    assert all(frame[1]["inputs_changed"] == 19 for frame in report["layer_counters"])


@pytest.mark.slow
@pytest.mark.parametrize("width", [4, 2])
def test_wide_scan_network_on_verilator(width):
    """The three-layer network on an engine that scans ``width`` inputs a cycle (input beats of
    W activations, the last partial), with seeded random stalls on both streams: outputs,
    counters and pre-activations equal golden and the plain chain."""
    config, layers = three_layers()
    config = config.replace(scan_width=width)
    stall = "random"
    x = similar_frames(12, 13, 0.6, layers[0][0].centroids, 8, seed=width)
    report = run_case(config, network_case(layers, x, stall), "verilator", outputs=True)
    assert report["mismatches"] == 0, report["first_mismatch"]
    outputs, z = chain(config, layers, x)
    assert np.array_equal(report["outputs"][0], outputs)
    assert np.array_equal(report["preactivations"][0], z)
    valid, ready = (make_pattern(spec) for spec in STALLS[stall])
    expected = golden_network_run(config, layers, x, input_valid=valid, output_ready=ready,
                                  trace=False)
    assert report["counters"] == [c.as_dict() for c in expected.counters]
    narrow = golden_network_run(config.replace(scan_width=1), layers, x, input_valid=valid,
                                output_ready=ready, trace=False)
    assert sum(c.cycles for c in expected.counters) < sum(c.cycles for c in narrow.counters)


@pytest.mark.parametrize("inject, what, frame", [
    ({"bias": [2, 5000, 1]}, {"output", "preactivation"}, 0),   # baseline-mode middle layer
    ({"bias": [5, -1, 2]}, {"output", "preactivation"}, 0),     # last layer
    ({"output_ready": pattern_spec("fixed", bits=[0, 0, 1])},
     {"beat cycle", "counter stall_cycles"}, None),
])
@pytest.mark.slow
def test_network_testbench_catches_injected_faults(inject, what, frame):
    config, layers = three_layers()
    x = similar_frames(4, 13, 0.5, layers[0][0].centroids, 8, seed=2)
    report = run_case(config, network_case(layers, x, "none", inject=inject), "verilator")
    assert report["mismatches"] > 0
    assert report["first_mismatch"]["what"] in what
    if frame is not None:
        assert report["first_mismatch"]["frame"] == frame


@pytest.mark.slow
def test_kaldi_mlp_on_verilator_300_frames_with_stalls():
    """The built-in Kaldi-shaped MLP (six reuse layers) on 300 frames of real filterbank speech
    with random bubbles and backpressure: every frame's outputs, counters, beat cycles and the
    pre-activations of all six layers equal golden; the outputs equal the plain chain."""
    from golden.network.builtin import network_workload
    network, x, _ = network_workload("kaldi-mlp", frames=300)
    config = network.engine_config(lanes=16)
    report = run_case(config, network_case(list(network.layers), x, "random"), "verilator",
                      outputs=True)
    assert report["mismatches"] == 0, report["first_mismatch"]
    assert report["frames"] == 300 and report["phases"][0]["expected_left"] == 0
    outputs, z = chain(config, network.layers, x)
    assert np.array_equal(report["outputs"][0], outputs)
    assert np.array_equal(report["preactivations"][0], z)
    stalls = dict(input_valid=Pattern(0.5, 5), output_ready=Pattern(0.5, 6))
    expected = golden_network_run(config, network.layers, x, trace=False, **stalls)
    assert report["counters"] == [c.as_dict() for c in expected.counters]
    assert report["layer_counters"] == [[r.counters[f].as_dict() for r in expected.layers]
                                        for f in range(300)]
    assert sum(c["stall_cycles"] for c in report["counters"]) > 0
    # real speech: far fewer MACs than recomputing every layer
    assert sum(c["macs"] for c in report["counters"]) < 0.8 * 300 * sum(
        layer.blocks(16) * 16 * layer.inputs for layer, _, _ in network.layers)


@pytest.mark.slow
def test_speech_lstm_on_verilator_300_frames_with_stalls():
    """The built-in LSTM network (FC, LSTM cell, FC) on 300 frames of real filterbank speech
    with random bubbles and backpressure: every frame's outputs, the pre-activations of all
    three layers (the LSTM's gates), every layer's counters and the beat cycles equal golden;
    the outputs equal the integer network ``deja eval`` evaluates
    (golden.network.layers.LSTMCell, in the gates' natural order and x_t unpadded)."""
    from golden.network.builtin import network_workload
    network, x, int_network = network_workload("speech-lstm", frames=300)
    report = run_network(network.engine_config(lanes=16), network.layers, x, "random")
    outs, _ = int_network.run(x / 2.0 ** int_network.input_frac)
    evaluated = np.round(outs["out"] * 2.0 ** int_network.layers[-1].frac).astype(np.int64)
    assert np.array_equal(report["outputs"][0], evaluated)
    assert sum(c["stall_cycles"] for c in report["counters"]) > 0


@pytest.mark.parametrize("stall", ["none", "random"])
@pytest.mark.slow
def test_lstm_first_network_on_verilator(stall):
    """An LSTM cell as layer 0 (x_t from the input stream with its bubbles, then h_{t-1} from
    the recurrent area) followed by an FC layer: outputs, every layer's counters and the beat
    cycles equal golden's, and golden equals golden.network.layers' LSTMCell and ReuseLinear."""
    from golden.network.layers import FC, LSTMCell, ReuseLinear
    from golden.network.lowering import lstm_engine_layer
    rng = np.random.default_rng(11)
    c16 = linear_centroids(-128, 127, 16, 8)
    x_n, hidden, m = 11, 6, 7
    cell = LSTMCell(ReuseLinear(FC(rng.integers(-40, 40, (x_n + hidden, 4 * hidden))),
                                rng.integers(-800, 800, 4 * hidden), c16, shift=8), hidden)
    fc = ReuseLinear(FC(rng.integers(-60, 60, (hidden, m))), rng.integers(-800, 800, m), c16,
                     shift=5)
    layers = [lstm_engine_layer(cell, x_n),
              (LayerConfig(hidden, m, c16, "none", 5), fc.linear.weights, fc.bias)]
    config = EngineConfig(lanes=8, max_inputs=32, max_outputs=32, max_layers=2, lstm=True)
    x = similar_frames(40, x_n, 0.7, c16, 8, seed=2)
    report = run_network(config, layers, x, stall)
    reference = np.array([fc(cell(frame)[0])[0] for frame in x])
    assert np.array_equal(report["outputs"][0], reference)


@pytest.mark.parametrize("stall", ["none", "random"])
@pytest.mark.slow
def test_conv_network_on_verilator(stall):
    """Two 1-D conv layers (the second strided) and an FC layer: each conv block runs the
    changed inputs of its window; outputs, every layer's counters and the beat cycles equal
    golden's, and golden equals golden.network.layers' im2col convolutions."""
    from golden.network.layers import FC, Conv, ReuseLinear
    rng = np.random.default_rng(12)
    c16 = linear_centroids(-128, 127, 16, 8)
    w1, b1 = rng.integers(-40, 40, (8, 3, 3)), rng.integers(-600, 600, 8)
    w2, b2 = rng.integers(-40, 40, (8, 8, 3)), rng.integers(-600, 600, 8)
    w3, b3 = rng.integers(-40, 40, (5 * 8, 6)), rng.integers(-600, 600, 6)
    refs = [ReuseLinear(Conv(w1, (3, 10), stride=1, padding=1), b1, c16, "relu", 7),
            ReuseLinear(Conv(w2, (8, 10), stride=2, padding=1), b2, c16, "relu", 7),
            ReuseLinear(FC(w3), b3, c16, "none", 7)]
    conv = dict(kind="conv", kernel=3, padding=1)
    layers = [(LayerConfig(30, 80, c16, "relu", 7, channels=3, stride=1, **conv),
               w1.transpose(2, 1, 0).reshape(9, 8), b1),
              (LayerConfig(80, 40, c16, "relu", 7, channels=8, stride=2, **conv),
               w2.transpose(2, 1, 0).reshape(24, 8), b2),
              (LayerConfig(40, 6, c16, "none", 7), w3, b3)]
    config = EngineConfig(lanes=8, max_inputs=80, max_outputs=80, max_layers=3, conv=True)
    x = similar_frames(40, 30, 0.7, c16, 8, seed=5)
    report = run_network(config, layers, x, stall)
    reference = []
    for frame in x:
        h = refs[0](frame.reshape(10, 3).T)[0]          # channel-major in, (8, 10) out
        h = refs[1](h)[0]                                # (8, 5)
        reference.append(refs[2](h.T.reshape(-1))[0])    # position-major flatten
    assert np.array_equal(report["outputs"][0], np.array(reference))


@pytest.mark.slow
def test_video_cnn_on_verilator_with_stalls():
    """The built-in 2-D CNN (conv 3 x 3, conv 3 x 3 stride 2, FC) on 120 frames of real video
    in RTL, with random stalls: each conv block runs its window's changed inputs, row segment
    by row segment; outputs, counters and beat cycles equal golden's, and the outputs are the
    integer network's."""
    from golden.network.builtin import network_workload
    network, x, int_network = network_workload("video-cnn", frames=120)
    config = network.engine_config(lanes=16)
    report = run_network(config, network.layers, x, "random")
    int_network.start_sequence()
    floats, _ = int_network.run(x.reshape(-1, 1, 16, 16) / 2.0 ** int_network.input_frac)
    frac = int_network.layers[-1].frac
    assert np.array_equal(report["outputs"][0],
                          np.round(floats["out"] * 2.0 ** frac).astype(np.int64))


@pytest.mark.slow
def test_silero_vad_on_verilator_300_frames_with_stalls():
    """Silero VAD (trained weights, 16-bit) on 300 frames of real speech in RTL: the STFT as a
    conv with the magnitude unit, four convs, the LSTM cell and the decoder on the engine; every
    frame's logit, every layer's counters and the beat cycles equal golden under random
    stalls, and the logits give exactly the speech probabilities of the integer network
    ``deja eval`` evaluates."""
    from golden.network.builtin import network_workload, silero_workload
    from golden.network.graph import _sigmoid
    network, x, int_network = network_workload("silero", frames=300)
    report = run_network(network.engine_config(lanes=16), network.layers, x, "random")
    outs, _ = int_network.run(silero_workload(300).evaluation)
    frac = next(l.frac for l in int_network.layers if l.node.name == "decoder")
    probability = _sigmoid(np.asarray(report["outputs"][0])[:, 0] / 2.0 ** frac)
    assert np.array_equal(probability, outs["speech"].reshape(-1))


@needs("verilator")
@pytest.mark.slow
def test_video_conv_blocked_on_verilator():
    """deja sim --band-rows (paper IV-C): video-conv's 32 x 32 x 16 feature map on an engine
    whose buffers hold one band of 4 output rows, the cocotb host moving each band's state
    through the buffer port: every frame and band equals golden; the inputs scanned (with the
    halo), the main-memory words and the MACs are as counted here from the geometry."""
    r = subprocess.run([sys.executable, "-m", "deja", "sim", "--network", "video-conv",
                        "--band-rows", "4", "--frames", "4", "--json"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["mismatches"] == 0 and report["frames"] == 4 and report["bands"] == 8
    assert report["engine"]["max_inputs"] == 6 * 32 and report["engine"]["max_outputs"] == 2048
    # band b: output rows 4b .. 4b + 3 read input rows 4b - 1 .. 4b + 4 inside the map
    rows_read = sum(min(32, 4 * b + 5) - max(0, 4 * b - 1) for b in range(8))
    assert report["inputs_scanned_per_frame"] == rows_read * 32
    blocks = 32 * 32 * 16 // 16
    # frame 0 writes every index (16 per word) and block back; later frames also read them
    # in, halo included (each band's 160 or 192 inputs are whole words)
    first, later = 1024 // 16 + blocks, rows_read * 32 // 16 + 1024 // 16 + 2 * blocks
    assert report["main_memory_words_per_frame_mean"] == (first + 3 * later) / 4
    assert report["macs"] == report["unblocked_macs"]


@pytest.mark.slow
def test_framing_errors_and_resets_in_every_phase_on_verilator():
    """A three-layer network with random stalls, sequence after sequence: a frame's ``last``
    one beat early, then one beat late (``framing_error`` rises as that beat is accepted and
    stays set until the reset), resets during the configuration writes and at offsets across a
    frame (scan, drain, correct, layer switch), each followed by reconfiguration and a sequence
    checked by the testbench against golden (outputs, counters per frame and per layer, beat
    cycles); the last sequence runs to its end and equals golden and the plain chain."""
    from test_network import chain_reference, make_network
    config, layers = make_network([(13, 19), (19, 7), (7, 10)], [True, False, True], seed=3,
                                  max_layers=3)
    c = layers[0][0].centroids
    frames = [similar_frames(6, 13, 0.6, c, 8, seed=s) for s in range(8)]
    stalls = {"input_valid": STALLS["random"][0], "output_ready": STALLS["random"][1]}
    phases = [
        {"frames": frames[0], "flip_last": [13 + 11], "reset_after": [3, 7], **stalls},
        {"frames": frames[1], "flip_last": [13 + 12], "reset_after": [3, 7], **stalls},
        {"frames": frames[2], "reset_after": [0, 6], **stalls},          # configuration
        *({"frames": frames[3 + k], "reset_after": [2, extra], **stalls}
          for k, extra in enumerate((3, 25, 60, 100))),
        {"frames": frames[7], **stalls},
    ]
    report = run_case(config, {"layers": layers, "phases": phases}, "verilator", outputs=True)
    assert report["mismatches"] == 0, report["first_mismatch"]
    got = report["phases"]
    for phase, bad in zip(got[:2], (24, 25)):
        assert phase["framing_error_sent"] == [bad + 1]
        assert phase["framing_error_before_reset"] == 1
    assert all(p["framing_error_sent"] is None for p in got[2:])
    assert got[2]["frames"] == 0
    assert all(1 <= p["frames"] < 6 for p in got[3:7])     # cut off by the reset
    assert got[-1]["frames"] == 6 and got[-1]["expected_left"] == 0
    valid, ready = (make_pattern(spec) for spec in STALLS["random"])
    expected = golden_network_run(config, layers, frames[7], input_valid=valid,
                                  output_ready=ready, trace=False)
    assert np.array_equal(report["outputs"][-1], expected.outputs)
    assert np.array_equal(report["outputs"][-1], chain_reference(layers, frames[7]))
    assert report["counters"][-6:] == [c.as_dict() for c in expected.counters]
