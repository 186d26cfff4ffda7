"""Importers and the integer network: float graphs against onnxruntime, clear errors."""

import numpy as np
import pytest

from golden.evaluation.importers import import_onnx
from golden.network.graph import UnsupportedOperator, quantize_graph

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
# onnx is optional: import its parts only once importorskip has found it
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def tiny_model(path, extra_op=None):
    """Conv1d(2->4, k3, pad 1) + ReLU -> Flatten -> Gemm(4*8 -> 3) -> Sigmoid."""
    rng = np.random.default_rng(0)
    w1 = rng.normal(0, 0.5, (4, 2, 3)).astype(np.float32)
    b1 = rng.normal(0, 0.1, 4).astype(np.float32)
    w2 = rng.normal(0, 0.3, (3, 32)).astype(np.float32)
    b2 = rng.normal(0, 0.1, 3).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c"], pads=[1, 1], kernel_shape=[3]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Flatten", ["r"], ["f"]),
        helper.make_node("Gemm", ["f", "w2", "b2"], ["g"], transB=1),
        helper.make_node(extra_op or "Sigmoid", ["g"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        [numpy_helper.from_array(a, n)
         for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, str(path))
    return path


def test_onnx_float_graph_matches_onnxruntime(tmp_path):
    path = tiny_model(tmp_path / "tiny.onnx")
    graph = import_onnx(path)
    frames = np.random.default_rng(1).normal(0, 1, (20, 2, 8))
    sess = ort.InferenceSession(str(path))
    expected = np.array([sess.run(None, {"x": f[None].astype(np.float32)})[0][0] for f in frames])
    got = graph.run_float(frames)["y"]
    assert np.abs(got.reshape(expected.shape) - expected).max() < 1e-5


def test_onnx_integer_network_tracks_float(tmp_path):
    graph = import_onnx(tiny_model(tmp_path / "tiny.onnx"))
    rng = np.random.default_rng(2)
    base = rng.normal(0, 1, (2, 8))
    frames = base + np.cumsum(rng.normal(0, 0.05, (300, 2, 8)), axis=0)   # slowly varying
    net = quantize_graph(graph, frames[:100], clusters=32)
    out, stats = net.run(frames[100:])
    ref = graph.run_float(frames[100:])["y"].reshape(out["y"].shape)
    assert np.abs(out["y"] - ref).mean() < 0.05
    assert all(layer.layer.reuse for layer in net.linear_layers())
    macs = sum(s.macs for st in stats.values() for s in st)
    dense = sum(s.macs_dense for st in stats.values() for s in st)
    assert 0 < macs < 0.8 * dense, "slowly varying inputs: reuse skips work"


def test_onnx_unsupported_operator(tmp_path):
    path = tiny_model(tmp_path / "bad.onnx", extra_op="Softmax")
    with pytest.raises(UnsupportedOperator) as e:
        import_onnx(path)
    assert str(e.value).startswith("operator Softmax (node 'y') is not supported")


def test_onnx_unreadable_file(tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"not a model")
    with pytest.raises(UnsupportedOperator, match="is not a readable ONNX model"):
        import_onnx(path)
