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
    text = (out / "fc_engine.v").read_text()
    assert "module fc_engine(" in text and "i_stream__ready" in text and "o_stream__payload" in text
    config = EngineConfig.from_json((out / "config.json").read_text())
    assert config == EngineConfig(lanes=4, max_inputs=64, max_outputs=64)
    assert result["engine"] == config.to_dict()


def test_verilog_from_config_file_and_baseline(tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(EngineConfig(lanes=2, max_inputs=16, max_outputs=16).to_json())
    r = deja("verilog", "--config", str(cfg), "--baseline", "-o", str(tmp_path / "b"))
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "b" / "fc_engine.v").read_text()
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
    (["demo", "--similarity", "2", "-o", "OUT"], "deja demo: error: --similarity 2.0: allowed 0..1"),
    (["demo", "--speech-frames", "-1", "-o", "OUT"], "deja demo: error: --speech-frames -1: allowed 0 or more"),
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
                                "acc_width, act_width, lanes, max_clusters, max_inputs, max_layers, "
                                "max_outputs, reuse, scan_width, weight_width")
    assert not (tmp_path / "out").exists()


def test_demo_json_agrees(tmp_path):
    r = deja("demo", "--frames", "6", "--lanes", "4", "--stall", "0.3", "--speech-frames", "0",
             "-o", str(tmp_path / "d"), "--json")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["rtl_matches_golden"] and result["reuse_matches_full_recompute"]
    assert result["cycles_reuse"] < result["cycles_baseline"]
    assert 0 < result["macs_avoided"] < 1
    assert (tmp_path / "d" / "fc_engine.v").exists()
