"""Whole-network evaluation: reports, policy and the user-model path of `deja eval`."""

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("onnx")
from test_importers import tiny_model

from golden.evaluation.evaluate import Workload, argmax_agreement, evaluate
from golden.evaluation.importers import import_onnx


def slow_frames(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 1, (2, 8)) + np.cumsum(rng.normal(0, 0.05, (n, 2, 8)), axis=0)


def test_evaluate_reports_consistent_figures(tmp_path):
    graph = import_onnx(tiny_model(tmp_path / "tiny.onnx"))
    x = slow_frames(400)
    workload = Workload("tiny", "test", graph, x[:100], x[100:], "argmax agreement",
                        argmax_agreement("y"), "Kaldi")
    r = evaluate(workload, clusters=32, budget=0.05, lanes=4)
    t = r["total"]
    assert r["frames"] == 300
    assert t["macs"] == sum(l["macs"] for l in r["layers"])
    assert t["macs_dense"] == sum(l["macs_dense"] for l in r["layers"])
    # every layer that reuses does at most the dense work, and the cycle model follows
    for l in r["layers"]:
        assert l["macs"] <= l["macs_dense"]
        assert (l["cycles"] < l["cycles_baseline"]) == (l["macs"] < l["macs_dense"])
    assert 1.0 <= t["speedup"] <= t["ideal_speedup"] + 1e-9 or t["macs_avoided"] == 0
    assert t["energy_pj"] == pytest.approx(sum(l["energy_pj"] for l in r["layers"]))
    assert t["normalized_energy"] == pytest.approx(t["energy_pj"] / t["energy_baseline_pj"])
    assert r["accuracy"]["with_reuse"] >= 1 - 0.05 - 0.1, "policy keeps the loss near the budget"
    assert r["memory"]["io_buffer_reuse_bytes"] >= r["memory"]["io_buffer_baseline_bytes"]


def test_energy_table_is_applied(tmp_path):
    """With every per-event energy zero but the MAC's, energy is MACs x that energy."""
    from golden.evaluation.perf import ENERGY_45NM_PJ
    graph = import_onnx(tiny_model(tmp_path / "tiny.onnx"))
    x = slow_frames(200)
    workload = Workload("tiny", "test", graph, x[:50], x[50:], "argmax agreement",
                        argmax_agreement("y"), "Kaldi")
    table = {k: 0.0 for k in ENERGY_45NM_PJ}
    table["mac"] = 2.5
    r = evaluate(workload, clusters=32, budget=0.05, lanes=4, energy=table, energy_model="test")
    assert r["energy_model"] == "test"
    assert r["total"]["energy_pj"] == pytest.approx(2.5 * r["total"]["macs"])
    assert r["total"]["energy_baseline_pj"] == pytest.approx(2.5 * r["total"]["macs_dense"])


def test_cacti_energy_table_reads_the_recorded_figures():
    import json

    from synth.memories import RECORDED, perf_energy_table
    table, description = perf_energy_table(32)
    entries = json.loads(RECORDED.read_text())["entries"]
    # the 1 MB weight bank: 512-bit words, 16,384 deep, at 32 nm
    bank = next(e for e in entries.values() if e["inputs"] == {
        "width": 512, "depth": 16384, "tech_node_nm": 32, "n_rw_ports": 1, "n_banks": 1})
    assert table["weight_byte"] == pytest.approx(bank["outputs"]["read_pj"] / 64, rel=1e-5)
    assert "CACTI 32 nm" in description and table["mac"] > 0


def test_policy_with_zero_budget_can_only_keep_exact_layers(tmp_path):
    graph = import_onnx(tiny_model(tmp_path / "tiny.onnx"))
    x = slow_frames(200, seed=1)
    workload = Workload("tiny", "test", graph, x[:100], x[100:], "argmax", argmax_agreement("y"),
                        "Kaldi")
    r = evaluate(workload, clusters=2, budget=0.0, lanes=4)
    # with 2 clusters the first layer's inputs are destroyed: the policy must not enable it
    assert ("/0" not in r["reuse_layers"]
            or r["accuracy"]["with_reuse"] >= r["accuracy"]["without_reuse"])


def test_cli_eval_user_model(tmp_path):
    model = tiny_model(tmp_path / "tiny.onnx")
    np.save(tmp_path / "frames.npy", slow_frames(200))
    out = tmp_path / "report"
    r = subprocess.run([sys.executable, "-m", "deja", "eval", "--model", str(model), "--input",
                        str(tmp_path / "frames.npy"), "--clusters", "32", "--budget", "5%",
                        "-o", str(out), "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert (out / "eval.md").read_text().startswith("# deja evaluation: tiny")
    assert json.loads((out / "eval.json").read_text())["frames"] == result["frames"] == 150
    for p in result["plots"]:
        assert pathlib.Path(p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args, message", [
    (["--workload", "mnist"], "deja eval: error: unknown workload 'mnist'"),
    (["--model", "missing.onnx", "--input", "x.npy"],
     "deja eval: error: --model missing.onnx: no such file"),
    (["--workload", "silero", "--budget", "150%"],
     "deja eval: error: --budget 150%: allowed 0% <= budget < 100%"),
    (["--workload", "silero", "--clusters", "many"],
     "deja eval: error: --clusters many: allowed 16, 32 or auto"),
])
def test_cli_eval_errors(tmp_path, args, message):
    r = subprocess.run([sys.executable, "-m", "deja", "eval", *args, "-o", str(tmp_path / "o")],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith(message), r.stderr
    assert not (tmp_path / "o").exists()


def test_cli_eval_wrong_frame_shape(tmp_path):
    model = tiny_model(tmp_path / "tiny.onnx")
    np.save(tmp_path / "frames.npy", np.zeros((10, 3, 8)))
    r = subprocess.run([sys.executable, "-m", "deja", "eval", "--model", str(model), "--input",
                        str(tmp_path / "frames.npy"), "-o", str(tmp_path / "o")],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip() == (f"deja eval: error: --input {tmp_path / 'frames.npy'}: frames have "
                                f"shape (3, 8), the model takes (2, 8)")
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_cli_eval_silero_on_real_speech(tmp_path):
    """The built-in workload end to end: fetched model and speech, report figures consistent
    with each other and with the independent float run (decision agreement recomputed)."""
    from golden.evaluation.workloads import WorkloadUnavailable, silero_vad_onnx, speech_sequence
    try:
        silero_vad_onnx(), speech_sequence(1.0)
    except WorkloadUnavailable as e:
        pytest.skip(str(e))
    out = tmp_path / "report"
    r = subprocess.run([sys.executable, "-m", "deja", "eval", "--workload", "silero",
                        "--frames", "120", "-o", str(out), "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["frames"] == 120 and result["weight_width"] == 16
    layers = {l["name"]: l for l in result["layers"]}
    assert list(layers) == ["stft", "encoder0", "encoder1", "encoder2", "encoder3", "lstm",
                            "decoder"]
    # the policy enables reuse from the last layer backwards: a contiguous tail
    enabled = [n for n, l in layers.items() if l["reuse_enabled"]]
    assert enabled == list(layers)[len(layers) - len(enabled):] and "decoder" in enabled
    total = result["total"]
    assert total["macs"] == sum(l["macs"] for l in layers.values())
    assert total["macs_avoided"] == pytest.approx(1 - total["macs"] / total["macs_dense"])
    assert 1 <= total["speedup"] <= total["ideal_speedup"] * (1 + 1e-9)
    for l in layers.values():
        assert (l["macs"] < l["macs_dense"]) == l["reuse_enabled"] or l["input_similarity"] == 0
    assert 0.9 <= result["accuracy"]["without_reuse"] <= 1
    assert (out / "eval.json").exists() and (out / "eval.md").exists()


def test_cli_eval_user_wav(tmp_path):
    """A WAV sequence is cut into consecutive windows of the model's input size (16 samples)."""
    import wave
    model = tiny_model(tmp_path / "tiny.onnx")
    frames = slow_frames(80)                                      # (80, 2, 8)
    samples = np.clip(np.round(frames.reshape(-1) / 8 * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(tmp_path / "seq.wav"), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(samples.tobytes() + b"\0\0")               # one sample more than 80 windows
    r = subprocess.run([sys.executable, "-m", "deja", "eval", "--model", str(model), "--input",
                        str(tmp_path / "seq.wav"), "--clusters", "32", "-o", str(tmp_path / "o"),
                        "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["calibration_frames"] == 20 and result["frames"] == 60


@pytest.mark.slow
def test_cli_eval_user_tflite_on_video(tmp_path):
    """A user's TFLite model (the cached BlazeFace) on a user's video file."""
    import av

    from golden.evaluation.workloads import WorkloadUnavailable, blazeface_tflite
    try:
        model = blazeface_tflite()
    except WorkloadUnavailable as e:
        pytest.skip(str(e))
    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for k in range(8):
            img = np.full((64, 96, 3), 30 + 10 * k, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    r = subprocess.run([sys.executable, "-m", "deja", "eval", "--model", str(model),
                        "--input", str(path), "--frames", "3", "-o", str(tmp_path / "o"), "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["calibration_frames"] == 2 and result["frames"] == 3
    assert len(result["layers"]) == 37


@pytest.mark.parametrize("model_name, input_name, message", [
    ("m.pt", "x.npy", "--model {d}/m.pt: unknown model format '.pt': allowed .onnx, .tflite"),
    ("tiny.onnx", "x.txt",
     "--input {d}/x.txt: unknown sequence format '.txt': allowed .npy, .wav, .mp4"),
    ("tiny.onnx", "x.wav", "--input {d}/x.wav: not a 16-bit PCM WAV file"),
    ("tiny.onnx", "x.mp4",
     "--input {d}/x.mp4: a video needs a model with a square RGB input, this one takes (2, 8)"),
])
def test_cli_eval_user_input_errors(tmp_path, model_name, input_name, message):
    tiny_model(tmp_path / "tiny.onnx")
    (tmp_path / "m.pt").write_bytes(b"torch")
    (tmp_path / input_name).write_bytes(b"garbage")
    r = subprocess.run([sys.executable, "-m", "deja", "eval", "--model", str(tmp_path / model_name),
                        "--input", str(tmp_path / input_name), "-o", str(tmp_path / "o")],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith("deja eval: error: " + message.format(d=tmp_path)), r.stderr
    assert not (tmp_path / "o").exists()
