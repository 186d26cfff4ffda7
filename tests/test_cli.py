"""The deja command line: outputs, --json, and one-line errors with exit code 2."""

import json
import os
import subprocess
import sys

import pytest

from golden import EngineConfig

DEJA = [sys.executable, "-m", "deja"]


def deja(*args, cwd=None):
    return subprocess.run(DEJA + list(args), capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONWARNINGS": "error"})


def test_verilog_writes_engine_and_config(tmp_path):
    out = tmp_path / "v"
    r = deja("verilog", "--lanes", "4", "--max-inputs", "64", "--max-outputs", "64",
             "-o", str(out), "--json")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    text = (out / "reuse_engine.v").read_text()
    assert ("module reuse_engine(" in text and "i_stream__ready" in text
            and "o_stream__payload" in text)
    config = EngineConfig.from_json((out / "config.json").read_text())
    assert config == EngineConfig(lanes=4, max_inputs=64, max_outputs=64)
    assert result["engine"] == config.to_dict()


def test_verilog_from_config_file_and_baseline(tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(EngineConfig(lanes=2, max_inputs=16, max_outputs=16).to_json())
    r = deja("verilog", "--config", str(cfg), "--baseline", "-o", str(tmp_path / "b"))
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "b" / "reuse_engine.v").read_text()
    assert "quantizer" not in text and "index_area" not in text   # no reuse hardware
    assert EngineConfig.from_json((tmp_path / "b" / "config.json").read_text()).reuse is False


@pytest.mark.parametrize("args, message", [
    (["verilog", "--lanes", "0", "-o", "OUT"],
     "deja verilog: error: lanes = 0 is out of range: allowed 1..64"),
    (["verilog", "--lanes", "four", "-o", "OUT"],
     "deja verilog: error: argument --lanes: invalid int value: 'four'"),
    (["verilog", "--config", "missing.json", "-o", "OUT"],
     "deja verilog: error: --config missing.json: no such file"),
    (["verilog"], "deja verilog: error: the following arguments are required: -o/--output"),
    (["frobnicate"], "deja: error: argument COMMAND: invalid choice: 'frobnicate'"),
    (["demo", "--similarity", "2", "-o", "OUT"],
     "deja demo: error: --similarity 2.0: allowed 0..1"),
    (["demo", "--speech-frames", "-1", "-o", "OUT"],
     "deja demo: error: --speech-frames -1: allowed 0 or more"),
    (["demo", "--network-frames", "-2", "-o", "OUT"],
     "deja demo: error: --network-frames -2: allowed 0 or more"),
    (["bench", "golden", "--frames", "1"], "deja bench: error: --frames 1: allowed 2 or more"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, args, message):
    args = [str(tmp_path / a) if a == "OUT" else a for a in args]
    r = deja(*args, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), r.stderr
    assert not (tmp_path / "OUT").exists(), "no partial output on error"


def test_bad_config_json_leaves_no_output(tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text('{"lanes": 4, "colour": "red"}')
    r = deja("verilog", "--config", str(cfg), "-o", str(tmp_path / "out"))
    assert r.returncode == 2
    assert r.stderr.strip() == ("deja verilog: error: unknown engine parameter 'colour': allowed "
                                "acc_width, act_width, blocking, conv, lanes, lstm, max_clusters, "
                                "max_inputs, max_kernel_rows, max_layers, max_outputs, reuse, "
                                "scan_width, weight_width, weight_words")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_demo_json_agrees(tmp_path):
    r = deja("demo", "--frames", "6", "--lanes", "4", "--stall", "0.3", "--speech-frames", "0",
             "--network-frames", "4", "-o", str(tmp_path / "d"), "--json")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["rtl_matches_golden"] and result["reuse_matches_full_recompute"]
    assert result["cycles_reuse"] < result["cycles_baseline"]
    assert 0 < result["macs_avoided"] < 1
    assert (tmp_path / "d" / "reuse_engine.v").exists()
    for key in ("network", "lstm_network", "silero_network", "video_network"):
        network = result[key]
        assert network["frames"] == 4 and network["mismatches"] == 0
        assert network["cycles_per_frame_mean"] < network["baseline_cycles_per_frame_mean"]
    blocked = result["blocked_network"]
    assert blocked["frames"] == 4 and blocked["mismatches"] == 0 and blocked["bands"] == 8


# ---- networks: deja sim --network, deja verilog --network -------------------------------------

def small_network(path):
    """A 2-layer network file (reuse, then baseline mode) and its engine."""
    import numpy as np

    from golden import LayerConfig, linear_centroids
    from golden.network.engine_network import EngineNetwork
    rng = np.random.default_rng(4)
    layers = [(LayerConfig(12, 9, linear_centroids(-128, 127, 8, 8), shift=8),
               rng.integers(-128, 128, (12, 9)), rng.integers(-2000, 2000, 9)),
              (LayerConfig(9, 5, linear_centroids(-128, 127, 8, 8), activation="none", shift=7,
                           reuse=False),
               rng.integers(-128, 128, (9, 5)), rng.integers(-2000, 2000, 5))]
    network = EngineNetwork("small", tuple(layers))
    network.save(path)
    return network


@pytest.mark.slow
def test_sim_network_speech_lstm_on_verilator():
    r = deja("sim", "--network", "speech-lstm", "--frames", "12", "--json")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["network"] == "speech-lstm" and result["shape"] == "360-128-lstm64-32"
    assert result["frames"] == 12 and result["mismatches"] == 0
    assert result["engine"]["lstm"] is True and len(result["layer_totals"]) == 3
    # the LSTM layer scans x_t (128) and h_{t-1} (64)
    assert result["totals"]["inputs_scanned"] == 12 * (360 + 192 + 64)


@pytest.mark.slow
def test_sim_network_kaldi_mlp_on_verilator():
    r = deja("sim", "--network", "kaldi-mlp", "--frames", "20", "--json")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["network"] == "kaldi-mlp" and result["shape"] == "360-64-128-128-128-128-32"
    assert result["frames"] == 20 and result["mismatches"] == 0
    assert result["first_mismatch"] is None
    assert result["speedup"] > 1 and 0 < result["macs_avoided_percent"] < 100
    assert result["baseline_cycles_per_frame_mean"] > result["cycles_per_frame_mean"]
    assert result["cycles_per_second"] > 0 and result["frames_per_second"] > 0
    assert result["engine"]["max_layers"] == 6 and result["engine"]["lanes"] == 16
    assert len(result["layer_totals"]) == 6
    assert result["totals"]["inputs_scanned"] == 20 * (360 + 64 + 4 * 128)


def test_sim_network_file_on_amaranth(tmp_path):
    import numpy as np

    from golden import golden_network_run
    network = small_network(tmp_path / "net.npz")
    x = np.random.default_rng(1).integers(-128, 128, (4, 12))
    np.save(tmp_path / "x.npy", x)
    r = deja("sim", "--network", str(tmp_path / "net.npz"), "--inputs", str(tmp_path / "x.npy"),
             "--simulator", "amaranth", "--lanes", "4", "--stall", "0.3", "--json")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["frames"] == 4 and result["mismatches"] == 0
    config = network.engine_config(lanes=4)
    assert result["engine"] == config.to_dict()
    expected = golden_network_run(config, network.layers, x, trace=False)
    assert result["totals"]["macs"] == sum(c.macs for c in expected.counters)


def test_verilog_network_writes_engine_config_and_network(tmp_path):
    from golden.network.engine_network import EngineNetwork
    network = small_network(tmp_path / "net.npz")
    out = tmp_path / "v"
    r = deja("verilog", "--network", str(tmp_path / "net.npz"), "--lanes", "4", "-o", str(out),
             "--json")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    config = EngineConfig.from_json((out / "config.json").read_text())
    assert config == network.engine_config(lanes=4) and config.max_layers == 2
    assert result["engine"] == config.to_dict() and result["network_name"] == "small"
    assert "module reuse_engine(" in (out / "reuse_engine.v").read_text()
    loaded = EngineNetwork.load(out / "network.npz")
    assert [l for l, _, _ in loaded.layers] == [l for l, _, _ in network.layers]
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "network.npz", "reuse_engine.v"]


@pytest.mark.parametrize("args, message", [
    (["sim", "--network", "resnet"],
     "deja sim: error: --network resnet: unknown network: allowed kaldi-mlp, speech-lstm, silero, "
     "video-cnn, video-conv or a .npz file"),
    (["verilog", "--network", "resnet", "-o", "OUT"],
     "deja verilog: error: --network resnet: unknown network: allowed kaldi-mlp, speech-lstm, "
     "silero, video-cnn, video-conv or a .npz file"),
    (["sim", "--network", "NET"],
     "deja sim: error: --network NET: a network file needs --inputs FILE.npy, a (frames, 12) "
     "integer array"),
    (["sim", "--network", "NET", "--inputs", "X"],
     "deja sim: error: --inputs X: expected a non-empty (frames, 12) integer array for network "
     "NET, got shape (3, 7) of int64"),
    (["sim", "--network", "missing.npz"], "deja sim: error: --network missing.npz: no such file"),
    (["verilog", "--network", "NET", "--max-inputs", "8", "-o", "OUT"],
     "deja verilog: error: layer 0: inputs = 12 is out of range: allowed 1..8 (engine max_inputs)"),
    (["sim", "--network", "kaldi-mlp", "--frames", "3000"],
     "deja sim: error: 3000 frames of 360 inputs: the Verilog stimulus player holds 1048576 "
     "input beats (at most 2912 frames)"),
    (["sim", "--band-rows", "2"],
     "deja sim: error: --band-rows: needs --network (a network of one conv layer)"),
    (["verilog", "--band-rows", "2", "-o", "OUT"],
     "deja verilog: error: --band-rows: needs --network (a network of one conv layer)"),
    (["verilog", "--network", "NET", "--band-rows", "2", "-o", "OUT"],
     "deja verilog: error: --band-rows 2: network small (fc-fc): blocking runs a network of "
     "one conv layer"),
    (["sim", "--network", "video-conv", "--band-rows", "40", "--frames", "2"],
     "deja sim: error: --band-rows 40: band rows = 40 is out of range: allowed 1..32 (output "
     "rows of the layer)"),
    (["synth", "--network", "video-conv", "--band-rows", "4", "--max-inputs", "100"],
     "deja synth: error: --band-rows 4: inputs = 160 is out of range: allowed 1..100 (engine "
     "max_inputs)"),
    (["sim", "--network", "video-conv", "--band-rows", "4", "--stall", "0.2"],
     "deja sim: error: --stall: not allowed with --band-rows (the host feeds every band without "
     "bubbles)"),
    (["bench", "network", "--network", "resnet"],
     "deja bench: error: --network resnet: unknown network: allowed kaldi-mlp, speech-lstm, "
     "silero, video-cnn, video-conv"),
])
def test_network_errors_are_one_line_exit_2(tmp_path, args, message):
    import numpy as np
    small_network(tmp_path / "net.npz")
    np.save(tmp_path / "x.npy", np.zeros((3, 7), dtype=np.int64))
    names = {"OUT": str(tmp_path / "OUT"), "NET": str(tmp_path / "net.npz"),
             "X": str(tmp_path / "x.npy")}
    r = deja(*[names.get(a, a) for a in args], cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    for short, full in names.items():
        message = message.replace(f" {short}", f" {full}")
    assert lines == [message], r.stderr
    assert not (tmp_path / "OUT").exists(), "no partial output on error"
