"""Hostile input to every subcommand: one line on stderr, exit code 2, no traceback, and nothing
written outside the output directory (on error, nothing written at all).

The command line runs in-process (deja.cli.main), each case in its own working directory;
the malformed files are built once per module in a shared, read-only-by-convention folder.
"""

import json
import os
import shlex
import signal
import struct
import wave

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from test_importers import tiny_model  # noqa: E402

from deja.cli import main  # noqa: E402
from golden import LayerConfig  # noqa: E402
from golden.network.engine_network import EngineNetwork  # noqa: E402

SECONDS = 20                      # a refused input is refused before the work starts


# ---- the malformed files ---------------------------------------------------------------------

def _onnx(path, nodes, inputs, output, initializers):
    graph = helper.make_graph(nodes, "hostile", inputs, [output],
                              [numpy_helper.from_array(a, n) for n, a in initializers.items()])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))


def _x(shape):
    return helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)


def _y(shape):
    return helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)


def onnx_models(d):
    w = np.ones((16, 3), np.float32)
    # the Gemm's weight is computed by another node, not a constant
    _onnx(d / "gemm_computed_weight.onnx",
          [helper.make_node("Relu", ["w"], ["wr"]), helper.make_node("Gemm", ["x", "wr"], ["y"])],
          [_x([1, 16])], _y([1, 3]), {"w": w})
    _onnx(d / "conv_computed_weight.onnx",
          [helper.make_node("Relu", ["w"], ["wr"]), helper.make_node("Conv", ["x", "wr"], ["y"])],
          [_x([1, 2, 8])], _y([1, 4, 6]), {"w": np.ones((4, 2, 3), np.float32)})
    _onnx(d / "maxpool_no_kernel.onnx",
          [helper.make_node("MaxPool", ["x"], ["p"]), helper.make_node("Flatten", ["p"], ["f"]),
           helper.make_node("Gemm", ["f", "w"], ["y"])],
          [_x([1, 1, 4, 4])], _y([1, 3]), {"w": w})
    _onnx(d / "gemm_mismatch.onnx", [helper.make_node("Gemm", ["x", "w"], ["y"])],
          [_x([1, 16])], _y([1, 3]), {"w": np.ones((30, 3), np.float32)})
    _onnx(d / "concat_no_axis.onnx",
          [helper.make_node("Gemm", ["x", "w"], ["g"]),
           helper.make_node("Concat", ["g", "g"], ["y"])],
          [_x([1, 16])], _y([1, 6]), {"w": w})
    _onnx(d / "unsupported.onnx",
          [helper.make_node("Gemm", ["x", "w"], ["g"]), helper.make_node("Softmax", ["g"], ["y"])],
          [_x([1, 16])], _y([1, 3]), {"w": w})
    _onnx(d / "gemm_nan_weight.onnx", [helper.make_node("Gemm", ["x", "w"], ["y"])],
          [_x([1, 16])], _y([1, 3]), {"w": np.full((16, 3), np.nan, np.float32)})
    # a square RGB input, for video sequences
    _onnx(d / "rgb.onnx", [helper.make_node("Flatten", ["x"], ["f"]),
                           helper.make_node("Gemm", ["f", "w"], ["y"])],
          [_x([1, 3, 4, 4])], _y([1, 3]), {"w": np.ones((48, 3), np.float32)})
    tiny_model(d / "tiny.onnx")                                   # takes (2, 8) frames
    (d / "garbage.onnx").write_bytes(b"\x08\x07garbage" * 10)
    (d / "garbage.tflite").write_bytes(b"TFL3" + bytes(range(256)) * 4)
    (d / "empty.onnx").write_bytes(b"")


def npy_files(d):
    rng = np.random.default_rng(0)
    good = rng.normal(0, 1, (40, 2, 8))
    np.save(d / "ok.npy", good)
    for name, value in (("nan", np.nan), ("inf", np.inf), ("neg_inf", -np.inf)):
        x = good.copy()
        x[7, 1, 3] = value
        np.save(d / f"{name}.npy", x)
    np.save(d / "strings.npy", np.full((40, 2, 8), "x"))
    np.save(d / "complex.npy", good + 1j)
    np.save(d / "bools.npy", good > 0)
    np.save(d / "wrong_shape.npy", good.reshape(40, 16, 1)[:, :15])
    np.save(d / "three_frames.npy", good[:3])
    np.save(d / "one_d.npy", good.reshape(-1))
    np.save(d / "scalar.npy", np.float64(3))
    np.save(d / "objects.npy", np.array([{"a": 1}] * 4, dtype=object), allow_pickle=True)
    np.save(d / "record.npy", np.zeros((40, 16), dtype=[("a", "<f8")]))
    (d / "truncated.npy").write_bytes((d / "ok.npy").read_bytes()[:200])
    (d / "garbage.npy").write_bytes(b"\x93NUMPY garbage")
    # integer frames for deja sim (8-bit activations, 96 inputs by default)
    frames = rng.integers(-128, 128, (5, 96))
    np.save(d / "frames.npy", frames)
    np.save(d / "frames_float.npy", frames.astype(np.float64))
    np.save(d / "frames_range.npy", frames * 1000)
    np.save(d / "frames_uint64.npy", np.full((5, 96), 2 ** 64 - 1, dtype=np.uint64))
    np.save(d / "frames_empty.npy", np.zeros((0, 96), dtype=np.int64))
    np.save(d / "frames_3d.npy", frames.reshape(5, 96, 1))
    np.save(d / "frames_wide.npy", rng.integers(-128, 128, (5, 600)))


def _wav(path, rate=16000, channels=1, width=2, samples=None):
    samples = np.zeros(4000 * channels, "<i2") if samples is None else samples
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels), w.setsampwidth(width), w.setframerate(rate)
        w.writeframes(samples.tobytes())


def wav_files(d):
    _wav(d / "stereo.wav", channels=2)
    _wav(d / "cd.wav", rate=44100)
    _wav(d / "eight_bit.wav", width=1, samples=np.zeros(4000, np.uint8))
    _wav(d / "empty.wav", samples=np.zeros(0, "<i2"))
    # IEEE float (format 3): a RIFF header the wave module refuses
    data = np.zeros(4000, "<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, 16000, 64000, 4, 32)
    (d / "float.wav").write_bytes(b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt "
                                  + struct.pack("<I", 16) + fmt + b"data"
                                  + struct.pack("<I", len(data)) + data)
    (d / "corrupt.wav").write_bytes(b"RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00garbage")
    (d / "truncated.wav").write_bytes(b"RIFF")
    (d / "not_riff.wav").write_bytes(b"ID3 this is an mp3")
    (d / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))


def npz_files(d):
    """deja network files (EngineNetwork.save) with broken metadata or arrays."""
    layer = LayerConfig(4, 3, (-64, 0, 64)).to_dict()
    weights = {"weights0": np.ones((4, 3), np.int64), "bias0": np.zeros(3, np.int64)}

    def npz(name, meta, **arrays):
        text = meta if isinstance(meta, str) else json.dumps(meta)
        np.savez(d / f"{name}.npz", network=np.array(text), **{**weights, **arrays})

    EngineNetwork("ok", ((LayerConfig(**layer), weights["weights0"], weights["bias0"]),)).save(
        d / "ok.npz")
    npz("meta_list", [1, 2])
    npz("meta_string", '"a network"')
    npz("meta_number", "42")
    npz("meta_not_json", "{")
    npz("frac_text", {"name": "n", "input_frac": "many", "layers": [layer]})
    npz("frac_list", {"name": "n", "input_frac": [1], "layers": [layer]})
    npz("name_object", {"name": {"a": 1}, "layers": [layer]})
    npz("layers_number", {"name": "n", "layers": 5})
    npz("layers_empty", {"name": "n", "layers": []})
    npz("layer_list", {"name": "n", "layers": [[4, 3]]})
    npz("layer_missing_field", {"name": "n", "layers": [{"inputs": 4}]})
    npz("layer_text_field", {"name": "n", "layers": [{**layer, "inputs": "four"}]})
    npz("layer_unknown_field", {"name": "n", "layers": [{**layer, "colour": 1}]})
    npz("layer_bad_centroids", {"name": "n", "layers": [{**layer, "centroids": "abc"}]})
    npz("weights_float", {"name": "n", "layers": [layer]}, weights0=np.full((4, 3), 0.5))
    npz("weights_huge", {"name": "n", "layers": [layer]}, weights0=np.full((4, 3), 2 ** 40))
    npz("weights_text", {"name": "n", "layers": [layer]}, weights0=np.full((4, 3), "w"))
    np.savez(d / "no_meta.npz", **weights)
    (d / "garbage.npz").write_bytes(b"PK\x03\x04 garbage")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile-files")
    onnx_models(d)
    npy_files(d)
    wav_files(d)
    npz_files(d)
    (d / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (d / "deep_object.json").write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    (d / "latin1.json").write_bytes(b'{"lanes": 4, "comment": "caf\xe9"}')
    (d / "utf16.json").write_bytes('{"lanes": 4}'.encode("utf-16"))
    (d / "binary.json").write_bytes(bytes(range(256)))
    (d / "empty.json").write_text("")
    (d / "array.json").write_text("[4]")
    (d / "nan.json").write_text('{"lanes": NaN}')
    (d / "float.json").write_text('{"lanes": 4.0}')
    (d / "huge.json").write_text('{"lanes": 1' + "0" * 5000 + "}")
    (d / "huge_engine.json").write_text(json.dumps(
        {"max_inputs": 65536, "max_outputs": 65536, "max_layers": 64, "lanes": 1}))
    (d / "text.liberty").write_text("library (x) {")
    (d / "a_file").write_text("not a directory")
    (d / "a_dir.vcd").mkdir()
    return d


# ---- the cases -------------------------------------------------------------------------------
# A case: (arguments, the start of the error message after "deja COMMAND: error: ") and the
# environment variables it sets, if any; in both, {f} is the folder of malformed files, {t} the
# case's own (working) folder, {out} its output directory ({t}/out).

F = "{f}"
MODEL = "eval --model {f}/tiny.onnx -o {out} --input"
RGB = "eval --model {f}/rgb.onnx -o {out} --input"
SMALL = "--lanes 4 --max-inputs 32 --max-outputs 32"

CASES = {
    # --config: the engine configuration JSON (every command that takes one)
    "config-deeply-nested-array": ("verilog --config {f}/deep.json -o {out}",
                                   "configuration is not an engine configuration: JSON"),
    "config-deeply-nested-object": ("verilog --config {f}/deep_object.json -o {out}",
                                    "configuration is not an engine configuration: JSON"),
    "config-not-utf8": ("verilog --config {f}/latin1.json -o {out}",
                        "--config {f}/latin1.json: not UTF-8 text (invalid"),
    "config-utf16": ("verilog --config {f}/utf16.json -o {out}",
                     "--config {f}/utf16.json: not UTF-8 text (invalid start"),
    "config-binary": ("verilog --config {f}/binary.json -o {out}",
                      "--config {f}/binary.json: not UTF-8 text (invalid"),
    "config-empty": ("verilog --config {f}/empty.json -o {out}",
                     "configuration is not valid JSON: Expecting value: line"),
    "config-array": ("verilog --config {f}/array.json -o {out}",
                     "configuration JSON must be an object of engine"),
    "config-nan": ("verilog --config {f}/nan.json -o {out}", "lanes must be an integer, not nan"),
    "config-float": ("verilog --config {f}/float.json -o {out}",
                     "lanes must be an integer, not 4.0"),
    "config-huge-number": ("verilog --config {f}/huge.json -o {out}",
                           "configuration is not valid JSON: Exceeds the limit"),
    "config-a-directory": ("verilog --config {f} -o {out}", "--config {f}: no such file"),
    "config-missing": ("verilog --config {t}/missing.json -o {out}",
                       "--config {t}/missing.json: no such file"),
    "config-too-much-memory": ("verilog --config {f}/huge_engine.json -o {out}",
                               "the engine's memories need 2,199,316,496,384 bits"),
    "sim-config-deep": ("sim --simulator amaranth --config {f}/deep.json",
                        "configuration is not an engine configuration: JSON"),
    "synth-config-not-utf8": ("synth --flow memories --config {f}/latin1.json -o {out}",
                              "--config {f}/latin1.json: not UTF-8 text (invalid"),
    "demo-config-deep": ("demo --config {f}/deep_object.json -o {out}",
                         "configuration is not an engine configuration: JSON"),
    "sweep-config-binary": ("sweep synth --config {f}/binary.json -o {out}",
                            "--config {f}/binary.json: not UTF-8 text (invalid"),
    # engine options
    "verilog-too-much-memory": ("verilog --max-inputs 65536 --max-outputs 65536 --max-layers 64 "
                                "--lanes 1 -o {out}",
                                "the engine's memories need 2,199,316,496,384 bits"),
    "verilog-lanes-negative": ("verilog --lanes -4 -o {out}",
                               "lanes = -4 is out of range: allowed 1..64"),
    "verilog-lanes-not-a-number": ("verilog --lanes 4x -o {out}",
                                   "argument --lanes: invalid int value: '4x'"),
    "verilog-acc-too-narrow": ("verilog --acc-width 17 -o {out}",
                               "acc_width = 17 is too narrow for max_inputs = 512:"),
    "verilog-scan-width-3": ("verilog --scan-width 3 -o {out}",
                             "scan_width = 3 must be a power of two that divides"),
    "synth-max-layers-0": ("synth --flow memories --max-layers 0 -o {out}",
                           "max_layers = 0 is out of range: allowed 1..64"),
    # -o: an existing file, a folder under a file, a read-only folder
    "verilog-out-is-a-file": ("verilog " + SMALL + " -o {f}/a_file",
                              "-o {f}/a_file: exists and is not a directory"),
    "verilog-out-under-a-file": ("verilog " + SMALL + " -o {f}/a_file/out",
                                 "-o {f}/a_file/out: {f}/a_file is not a directory"),
    "demo-out-is-a-file": ("demo " + SMALL + " --frames 2 -o {f}/a_file",
                           "-o {f}/a_file: exists and is not a directory"),
    "demo-out-under-a-file": ("demo " + SMALL + " --frames 2 -o {f}/a_file/out",
                              "-o {f}/a_file/out: {f}/a_file is not a directory"),
    "eval-out-is-a-file": (MODEL + " {f}/ok.npy -o {f}/a_file",
                           "-o {f}/a_file: exists and is not a directory"),
    "eval-out-under-a-file": (MODEL + " {f}/ok.npy -o {f}/a_file/out",
                              "-o {f}/a_file/out: {f}/a_file is not a directory"),
    "synth-out-is-a-file": ("synth --flow memories " + SMALL + " -o {f}/a_file",
                            "-o {f}/a_file: exists and is not a directory"),
    "synth-out-under-a-file": ("synth --flow memories " + SMALL + " -o {f}/a_file/x",
                               "-o {f}/a_file/x: {f}/a_file is not a directory"),
    "sweep-out-is-a-file": ("sweep synth --lanes 4 --clusters 16 -o {f}/a_file",
                            "-o {f}/a_file: exists and is not a directory"),
    "verilog-out-read-only": ("verilog " + SMALL + " -o {t}/ro/out",
                              "-o {t}/ro/out: cannot write in {t}/ro"),
    "demo-out-read-only": ("demo " + SMALL + " --frames 2 -o {t}/ro",
                           "-o {t}/ro: cannot write in {t}/ro"),
    "eval-out-read-only": (MODEL + " {f}/ok.npy -o {t}/ro/out",
                           "-o {t}/ro/out: cannot write in {t}/ro"),
    "synth-out-read-only": ("synth --flow memories " + SMALL + " -o {t}/ro",
                            "-o {t}/ro: cannot write in {t}/ro"),
    # --name: a Verilog module name, and the file name of the Verilog
    "verilog-name-parent": ("verilog " + SMALL + " --name ../x -o {out}",
                            "--name '../x': a module name is a letter or _ followed"),
    "verilog-name-empty": ("verilog " + SMALL + " --name '' -o {out}",
                           "--name '': a module name is a letter or _ followed by"),
    "verilog-name-space": ("verilog " + SMALL + " --name 'a b' -o {out}",
                           "--name 'a b': a module name is a letter or _ followed"),
    "verilog-name-slash": ("verilog " + SMALL + " --name a/b -o {out}",
                           "--name 'a/b': a module name is a letter or _ followed"),
    "verilog-name-digit": ("verilog " + SMALL + " --name 9lives -o {out}",
                           "--name '9lives': a module name is a letter or _"),
    "verilog-name-unicode": ("verilog " + SMALL + " --name modülé -o {out}",
                             "--name 'modülé': a module name is a letter or _"),
    "verilog-name-too-long": ("verilog " + SMALL + " --name " + "a" * 300 + " -o {out}", "--name"),
    "verilog-name-dot": ("verilog " + SMALL + " --name top.v -o {out}",
                         "--name 'top.v': a module name is a letter or _"),
    # --network FILE.npz: a deja network file with broken metadata or arrays
    "network-meta-list": ("verilog --network {f}/meta_list.npz -o {out}",
                          "network file {f}/meta_list.npz is not a deja network"),
    "network-meta-string": ("verilog --network {f}/meta_string.npz -o {out}",
                            "network file {f}/meta_string.npz is not a deja network"),
    "network-meta-number": ("verilog --network {f}/meta_number.npz -o {out}",
                            "network file {f}/meta_number.npz is not a deja network"),
    "network-meta-not-json": ("verilog --network {f}/meta_not_json.npz -o {out}",
                              "network file {f}/meta_not_json.npz is not a deja"),
    "network-frac-text": ("verilog --network {f}/frac_text.npz -o {out}",
                          "network file {f}/frac_text.npz is not a deja network"),
    "network-frac-list": ("verilog --network {f}/frac_list.npz -o {out}",
                          "network file {f}/frac_list.npz is not a deja network"),
    "network-name-object": ("verilog --network {f}/name_object.npz -o {out}",
                            "network file {f}/name_object.npz is not a deja network"),
    "network-layers-number": ("verilog --network {f}/layers_number.npz -o {out}",
                              "network file {f}/layers_number.npz is not a deja"),
    "network-layers-empty": ("verilog --network {f}/layers_empty.npz -o {out}",
                             "a network needs at least one layer"),
    "network-layer-list": ("verilog --network {f}/layer_list.npz -o {out}",
                           "network file {f}/layer_list.npz is not a deja network"),
    "network-layer-missing-field": ("verilog --network {f}/layer_missing_field.npz -o {out}",
                                    "network file {f}/layer_missing_field.npz: layer 0:"),
    "network-layer-text-field": ("verilog --network {f}/layer_text_field.npz -o {out}",
                                 "network file {f}/layer_text_field.npz: layer 0: inputs"),
    "network-layer-unknown-field": ("verilog --network {f}/layer_unknown_field.npz -o {out}",
                                    "network file {f}/layer_unknown_field.npz: layer 0:"),
    "network-layer-bad-centroids": ("verilog --network {f}/layer_bad_centroids.npz -o {out}",
                                    "network file {f}/layer_bad_centroids.npz: layer 0:"),
    "network-weights-float": ("verilog --network {f}/weights_float.npz -o {out}",
                              "network file {f}/weights_float.npz: layer 0 weights"),
    "network-weights-huge": ("verilog --network {f}/weights_huge.npz -o {out}",
                             "weight_width = 42 is out of range: allowed 2..18"),
    "network-weights-text": ("verilog --network {f}/weights_text.npz -o {out}",
                             "network file {f}/weights_text.npz: layer 0 weights <U1"),
    "network-no-meta": ("verilog --network {f}/no_meta.npz -o {out}",
                        "network file {f}/no_meta.npz is not a deja network"),
    "network-garbage": ("verilog --network {f}/garbage.npz -o {out}",
                        "network file {f}/garbage.npz is not a deja network"),
    "network-missing": ("verilog --network {t}/missing.npz -o {out}",
                        "--network {t}/missing.npz: no such file"),
    "network-unknown-name": ("verilog --network resnet -o {out}",
                             "--network resnet: unknown network: allowed kaldi-mlp,"),
    "network-with-config": ("verilog --network {f}/ok.npz --config {f}/nan.json -o {out}",
                            "--config: not allowed with --network (the engine is"),
    "synth-network-layer-list": ("synth --flow memories --network {f}/layer_list.npz -o {out}",
                                 "network file {f}/layer_list.npz is not a deja network"),
    "sim-network-frac-text": ("sim --simulator amaranth --network {f}/frac_text.npz --inputs "
                              "{f}/frames.npy",
                              "network file {f}/frac_text.npz is not a deja network"),
    "sim-network-without-inputs": ("sim --simulator amaranth --network {f}/ok.npz",
                                   "--network {f}/ok.npz: a network file needs --inputs"),
    "sim-network-inputs-wrong-width": ("sim --simulator amaranth --network {f}/ok.npz --inputs "
                                       "{f}/frames.npy",
                                       "--inputs {f}/frames.npy: expected a non-empty (frames,"),
    "sim-band-rows-without-network": ("sim --simulator amaranth --band-rows 2",
                                      "--band-rows: needs --network (a network of one conv"),
    # deja sim's own options
    "sim-seed-negative": ("sim --simulator amaranth " + SMALL + " --seed -1 --frames 2",
                          "--seed -1: allowed 0 or more"),
    "sim-frames-zero": ("sim --simulator amaranth --frames 0", "--frames 0: allowed 1 or more"),
    "sim-similarity-nan": ("sim --simulator amaranth --similarity nan",
                           "--similarity nan: allowed 0..1"),
    "sim-stall-one": ("sim --simulator amaranth --stall 1", "--stall 1.0: allowed 0 <= P < 1"),
    "sim-stall-inf": ("sim --simulator amaranth --stall inf", "--stall inf: allowed 0 <= P < 1"),
    "sim-waves-a-directory": ("sim --simulator amaranth --frames 2 --waves {f}/a_dir.vcd",
                              "--waves {f}/a_dir.vcd: cannot write a file there"),
    "sim-waves-under-a-file": ("sim --simulator amaranth --frames 2 --waves {f}/a_file/w.vcd",
                               "--waves {f}/a_file/w.vcd: no such directory"),
    "sim-waves-fst-on-amaranth": ("sim --simulator amaranth --waves {t}/w.fst",
                                  "--waves {t}/w.fst: amaranth writes .vcd files"),
    "sim-inputs-float": ("sim --simulator amaranth --inputs {f}/frames_float.npy",
                         "--inputs {f}/frames_float.npy: expected a non-empty"),
    "sim-inputs-nan": ("sim --simulator amaranth --inputs {f}/nan.npy",
                       "--inputs {f}/nan.npy: expected a non-empty (frames,"),
    "sim-inputs-complex": ("sim --simulator amaranth --inputs {f}/complex.npy",
                           "--inputs {f}/complex.npy: expected a non-empty"),
    "sim-inputs-strings": ("sim --simulator amaranth --inputs {f}/strings.npy",
                           "--inputs {f}/strings.npy: expected a non-empty"),
    "sim-inputs-objects": ("sim --simulator amaranth --inputs {f}/objects.npy",
                           "--inputs {f}/objects.npy: not a .npy array (Object"),
    "sim-inputs-out-of-range": ("sim --simulator amaranth --inputs {f}/frames_range.npy",
                                "--inputs {f}/frames_range.npy: values must be"),
    "sim-inputs-uint64": ("sim --simulator amaranth --inputs {f}/frames_uint64.npy",
                          "--inputs {f}/frames_uint64.npy: values must be"),
    "sim-inputs-empty": ("sim --simulator amaranth --inputs {f}/frames_empty.npy",
                         "--inputs {f}/frames_empty.npy: expected a non-empty"),
    "sim-inputs-3d": ("sim --simulator amaranth --inputs {f}/frames_3d.npy",
                      "--inputs {f}/frames_3d.npy: expected a non-empty"),
    "sim-inputs-too-wide": ("sim --simulator amaranth --inputs {f}/frames_wide.npy",
                            "--inputs {f}/frames_wide.npy: 600 inputs per frame,"),
    "sim-inputs-truncated": ("sim --simulator amaranth --inputs {f}/truncated.npy",
                             "--inputs {f}/truncated.npy: not a .npy array (Failed"),
    "sim-inputs-garbage": ("sim --simulator amaranth --inputs {f}/garbage.npy",
                           "--inputs {f}/garbage.npy: not a .npy array (we only"),
    "sim-inputs-and-similarity": ("sim --simulator amaranth --inputs {f}/frames.npy --similarity "
                                  "0.5",
                                  "argument --similarity: not allowed with argument"),
    "sim-simulator-unknown": ("sim --simulator modelsim",
                              "argument --simulator: invalid choice: 'modelsim'"),
    # deja eval: its options
    "eval-clusters-33": ("eval --workload kaldi-mlp --clusters 33 -o {out}",
                         "--clusters 33: allowed 16, 32 or auto"),
    "eval-clusters-8": ("eval --workload kaldi-mlp --clusters 8 -o {out}",
                        "--clusters 8: allowed 16, 32 or auto"),
    "eval-clusters-word": ("eval --workload kaldi-mlp --clusters many -o {out}",
                           "--clusters many: allowed 16, 32 or auto"),
    "eval-budget-nan": ("eval --workload kaldi-mlp --budget nan -o {out}",
                        "--budget nan: allowed 0% <= budget < 100%"),
    "eval-budget-percent-sign-only": ("eval --workload kaldi-mlp --budget % -o {out}",
                                      "--budget %: give a percentage like 1% or a fraction"),
    "eval-frames-zero": ("eval --workload kaldi-mlp --frames 0 -o {out}",
                         "--frames 0: allowed 1 or more"),
    "eval-lanes-zero": ("eval --workload kaldi-mlp --lanes 0 -o {out}", "--lanes 0: allowed 1..64"),
    "eval-workload-unknown": ("eval --workload resnet -o {out}",
                              "unknown workload 'resnet': allowed kaldi-mlp,"),
    "eval-model-and-workload": ("eval --workload kaldi-mlp --model {f}/tiny.onnx -o {out}",
                                "argument --model: not allowed with argument --workload"),
    # deja eval --model: malformed models
    "eval-onnx-computed-gemm-weight": ("eval --model {f}/gemm_computed_weight.onnx --input "
                                       "{f}/ok.npy -o {out}",
                                       "operator Gemm whose weight 'wr' is computed, not a"),
    "eval-onnx-computed-conv-weight": ("eval --model {f}/conv_computed_weight.onnx --input "
                                       "{f}/ok.npy -o {out}",
                                       "operator Conv whose weight 'wr' is computed, not a"),
    "eval-onnx-maxpool-without-kernel": ("eval --model {f}/maxpool_no_kernel.onnx --input "
                                         "{f}/ok.npy -o {out}",
                                         "operator MaxPool without the attribute kernel_shape"),
    "eval-onnx-gemm-shapes-mismatch": ("eval --model {f}/gemm_mismatch.onnx "
                                       "--input {f}/ok.npy -o {out}",
                                       "--model {f}/gemm_mismatch.onnx: the model does not run"),
    "eval-onnx-concat-without-axis": ("eval --model {f}/concat_no_axis.onnx --input {f}/ok.npy -o "
                                      "{out}",
                                      "operator Concat without the attribute axis (node 'y')"),
    "eval-onnx-unsupported-operator": ("eval --model {f}/unsupported.onnx --input {f}/ok.npy -o "
                                       "{out}",
                                       "operator Softmax (node 'y') is not supported; deja"),
    "eval-onnx-nan-weights": ("eval --model {f}/gemm_nan_weight.onnx --input {f}/ok.npy -o {out}",
                              "--model {f}/gemm_nan_weight.onnx: node 'y' has a"),
    "eval-onnx-garbage": ("eval --model {f}/garbage.onnx --input {f}/ok.npy -o {out}",
                          "{f}/garbage.onnx is not a readable ONNX model: Error"),
    "eval-onnx-empty": ("eval --model {f}/empty.onnx --input {f}/ok.npy -o {out}",
                        "{f}/empty.onnx: deja imports models with one input,"),
    "eval-tflite-garbage": ("eval --model {f}/garbage.tflite --input {f}/ok.npy -o {out}",
                            "{f}/garbage.tflite is not a readable TFLite model:"),
    "eval-model-unknown-format": ("eval --model {f}/a_file --input {f}/ok.npy -o {out}",
                                  "--model {f}/a_file: unknown model format '': allowed"),
    "eval-model-missing": ("eval --model {t}/missing.onnx --input {f}/ok.npy -o {out}",
                           "--model {t}/missing.onnx: no such file"),
    "eval-model-without-input": ("eval --model {f}/tiny.onnx -o {out}",
                                 "--model needs --input FILE (.npy frames, .wav, or a"),
    # deja eval --input: malformed sequences
    "eval-input-nan": (MODEL + " {f}/nan.npy", "--input {f}/nan.npy: frame 7 holds nan: expected"),
    "eval-input-inf": (MODEL + " {f}/inf.npy", "--input {f}/inf.npy: frame 7 holds inf: expected"),
    "eval-input-minus-inf": (MODEL + " {f}/neg_inf.npy",
                             "--input {f}/neg_inf.npy: frame 7 holds -inf: expected"),
    "eval-input-strings": (MODEL + " {f}/strings.npy",
                           "--input {f}/strings.npy: an array of <U1: expected"),
    "eval-input-complex": (MODEL + " {f}/complex.npy",
                           "--input {f}/complex.npy: an array of complex128:"),
    "eval-input-bools": (MODEL + " {f}/bools.npy",
                         "--input {f}/bools.npy: an array of bool: expected real"),
    "eval-input-records": (MODEL + " {f}/record.npy",
                           "--input {f}/record.npy: an array of [('a', '<f8')]:"),
    "eval-input-objects": (MODEL + " {f}/objects.npy",
                           "--input {f}/objects.npy: not a NumPy array file"),
    "eval-input-wrong-shape": (MODEL + " {f}/wrong_shape.npy",
                               "--input {f}/wrong_shape.npy: frames have shape (15,"),
    "eval-input-three-frames": (MODEL + " {f}/three_frames.npy",
                                "--input {f}/three_frames.npy: 3 frames; at least 4 are"),
    "eval-input-one-dimensional": (MODEL + " {f}/one_d.npy",
                                   "--input {f}/one_d.npy: frames have shape (), the model"),
    "eval-input-scalar": (MODEL + " {f}/scalar.npy",
                          "--input {f}/scalar.npy: frames have shape (), the"),
    "eval-input-truncated-npy": (MODEL + " {f}/truncated.npy",
                                 "--input {f}/truncated.npy: not a NumPy array file"),
    "eval-input-garbage-npy": (MODEL + " {f}/garbage.npy",
                               "--input {f}/garbage.npy: not a NumPy array file (we"),
    "eval-input-missing": (MODEL + " {t}/missing.npy", "--input {t}/missing.npy: no such file"),
    "eval-input-a-directory": (MODEL + " {f}/a_dir.vcd", "--input {f}/a_dir.vcd: no such file"),
    "eval-input-unknown-format": (MODEL + " {f}/text.liberty",
                                  "--input {f}/text.liberty: unknown sequence format"),
    "eval-wav-stereo": (MODEL + " {f}/stereo.wav",
                        "--input {f}/stereo.wav: 2 channel(s) at 16000 Hz:"),
    "eval-wav-44100": (MODEL + " {f}/cd.wav",
                       "--input {f}/cd.wav: 1 channel(s) at 44100 Hz: expected"),
    "eval-wav-8-bit": (MODEL + " {f}/eight_bit.wav",
                       "--input {f}/eight_bit.wav: not a 16-bit PCM WAV file"),
    "eval-wav-float": (MODEL + " {f}/float.wav",
                       "--input {f}/float.wav: not a 16-bit PCM WAV file"),
    "eval-wav-corrupt": (MODEL + " {f}/corrupt.wav",
                         "--input {f}/corrupt.wav: not a 16-bit PCM WAV file ()"),
    "eval-wav-truncated": (MODEL + " {f}/truncated.wav",
                           "--input {f}/truncated.wav: not a 16-bit PCM WAV file ()"),
    "eval-wav-not-riff": (MODEL + " {f}/not_riff.wav",
                          "--input {f}/not_riff.wav: not a 16-bit PCM WAV file"),
    "eval-wav-empty": (MODEL + " {f}/empty.wav",
                       "--input {f}/empty.wav: 0 frames; at least 4 are needed"),
    "eval-video-corrupt": (RGB + " {f}/corrupt.mp4",
                           "--input {f}/corrupt.mp4: not a readable video ([Errno"),
    "eval-video-for-a-1d-model": (MODEL + " {f}/corrupt.mp4",
                                  "--input {f}/corrupt.mp4: a video needs a model with a"),
    # DEJA_CACHE: the workload cache
    "cache-is-a-file": ("eval --workload kaldi-mlp -o {out}",
                        "$DEJA_CACHE {f}/a_file: exists and is not a directory",
                        {"DEJA_CACHE": "{f}/a_file"}),
    "cache-under-a-file": ("eval --workload kaldi-mlp -o {out}",
                           "$DEJA_CACHE {f}/a_file/cache: cannot create it (Not a",
                           {"DEJA_CACHE": "{f}/a_file/cache"}),
    "cache-under-read-only": ("eval --workload kaldi-mlp -o {out}",
                              "$DEJA_CACHE {t}/ro/cache: cannot create it (Permission",
                              {"DEJA_CACHE": "{t}/ro/cache"}),
    "cache-read-only": ("eval --workload kaldi-mlp -o {out}",
                        "$DEJA_CACHE {t}/ro: cannot write in {t}/ro/speech",
                        {"DEJA_CACHE": "{t}/ro"}),
    "verilog-network-cache-is-a-file": ("verilog --network kaldi-mlp -o {out}",
                                        "$DEJA_CACHE {f}/a_file: exists and is not a directory",
                                        {"DEJA_CACHE": "{f}/a_file"}),
    "sim-network-cache-is-a-file": ("sim --simulator amaranth --network speech-lstm",
                                    "$DEJA_CACHE {f}/a_file: exists and is not a directory",
                                    {"DEJA_CACHE": "{f}/a_file"}),
    "bench-throughput-cache-is-a-file": ("bench throughput --frames 2",
                                         "$DEJA_CACHE {f}/a_file: exists and is not a directory",
                                         {"DEJA_CACHE": "{f}/a_file"}),
    # synth
    "synth-liberty-missing": ("synth --flow asic --liberty {t}/missing.lib -o {out}",
                              "--liberty {t}/missing.lib: no such file"),
    "synth-liberty-a-directory": ("synth --flow asic --liberty {f} -o {out}",
                                  "--liberty {f}: no such file"),
    "synth-asic-without-liberty": ("synth --flow asic -o {out}",
                                   "--flow asic needs --liberty PATH (a standard-cell"),
    "synth-node-zero": ("synth --flow memories --node 0 -o {out}",
                        "--node 0: expected a technology node in nm (1..1000)"),
    "synth-freq-zero": ("synth --flow ecp5 --freq 0 -o {out}",
                        "--freq 0: expected a clock target in MHz (0 < MHz <="),
    "synth-freq-nan": ("synth --flow ecp5 --freq nan -o {out}",
                       "--freq nan: expected a clock target in MHz (0 < MHz <="),
    "synth-seed-negative": ("synth --flow ecp5 --seed -1 -o {out}", "--seed -1: allowed 0 or more"),
    "synth-flow-unknown": ("synth --flow vivado -o {out}",
                           "argument --flow: invalid choice: 'vivado' (choose from"),
    "synth-band-rows-without-network": ("synth --flow memories --band-rows 2 -o {out}",
                                        "--band-rows: needs --network (a network of one conv"),
    # demo
    "demo-frames-zero": ("demo --frames 0 -o {out}", "--frames 0: allowed 1 or more"),
    "demo-similarity-negative": ("demo --similarity -0.1 -o {out}",
                                 "--similarity -0.1: allowed 0..1"),
    "demo-stall-one": ("demo --stall 1 -o {out}", "--stall 1.0: allowed 0 <= P < 1"),
    "demo-speech-frames-negative": ("demo --speech-frames -1 -o {out}",
                                    "--speech-frames -1: allowed 0 or more"),
    "demo-lanes-too-many": ("demo --lanes 65 -o {out}",
                            "lanes = 65 is out of range: allowed 1..64"),
    # bench
    "bench-frames-one": ("bench golden --frames 1", "--frames 1: allowed 2 or more"),
    "bench-frames-negative": ("bench golden --frames -10", "--frames -10: allowed 2 or more"),
    "bench-similarity-nan": ("bench golden --similarity nan", "--similarity nan: allowed 0..1"),
    "bench-scan-width-not-throughput": ("bench golden --scan-width 2",
                                        "--scan-width: allowed with the throughput benchmark"),
    "bench-scan-width-3": ("bench throughput --scan-width 3",
                           "--scan-width: scan_width = 3 must be a power of two"),
    "bench-network-unknown": ("bench network --network resnet",
                              "--network resnet: unknown network: allowed kaldi-mlp,"),
    "bench-target-unknown": ("bench everything",
                             "argument target: invalid choice: 'everything' (choose"),
    # sweep
    "sweep-lanes-not-numbers": ("sweep synth --lanes a,b -o {out}",
                                "expected a comma-separated list of integers, not 'a,b'"),
    "sweep-lanes-empty": ("sweep synth --lanes , -o {out}", "expected at least one value"),
    "sweep-lanes-zero": ("sweep synth --lanes 0 -o {out}",
                         "lanes = 0 is out of range: allowed 1..64"),
    "sweep-clusters-one": ("sweep synth --lanes 4 --clusters 1 -o {out}",
                           "max_clusters = 1 is out of range: allowed 2..64"),
    "sweep-asic-without-liberty": ("sweep synth --flow asic -o {out}",
                                   "--flow asic needs --liberty PATH (a standard-cell"),
    "sweep-what-unknown": ("sweep lanes", "argument WHAT: invalid choice: 'lanes' (choose from"),
    # the command line itself
    "no-command": ("", "the following arguments are required: COMMAND"),
    "unknown-command": ("frobnicate", "argument COMMAND: invalid choice: 'frobnicate' (choose"),
    "unknown-option": ("verilog --colour red -o {out}", "unrecognized arguments: --colour red"),
}
READ_ONLY = {name for name in CASES if "read-only" in name}


def tree(*roots):
    """Every path under ``roots`` (files and folders)."""
    return {p for root in roots for p in root.rglob("*")}


@pytest.mark.parametrize("name", CASES)
def test_hostile_input_is_one_line_exit_2(name, files, tmp_path, monkeypatch, capsys):
    args, message, env = (CASES[name] + ({},))[:3]
    if name in READ_ONLY:
        (tmp_path / "ro").mkdir()
        (tmp_path / "ro").chmod(0o555)
        if os.access(tmp_path / "ro", os.W_OK):
            pytest.skip("this user writes into read-only folders (root)")
    fill = {"f": str(files), "t": str(tmp_path), "out": str(tmp_path / "out")}
    argv = [a.format(**fill) for a in shlex.split(args)]
    for key, value in env.items():
        monkeypatch.setenv(key, value.format(**fill))
    monkeypatch.chdir(tmp_path)
    before = tree(tmp_path, files)

    def too_slow(signum, frame):
        raise TimeoutError(f"still running after {SECONDS} s: the input was not refused")
    signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(SECONDS)
    try:
        code = main(argv)
    except SystemExit as e:         # argparse's own errors
        code = e.code
    finally:
        signal.alarm(0)
    out, err = capsys.readouterr()
    assert (code, out) == (2, ""), err
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    prefix = f"deja {argv[0]}: error: " if argv and not lines[0].startswith("deja: ") else \
        "deja: error: "
    for key, value in fill.items():          # not str.format: messages may hold braces
        message = message.replace("{" + key + "}", value)
    assert lines[0].startswith(prefix + message), err
    assert tree(tmp_path, files) == before, "nothing written on error"
