"""Silero VAD (v5/v6, 16 kHz ONNX) as a deja graph.

The ONNX file wraps the network in sample-rate and state-handling ``If`` branches that deja's
layers have no use for, so this importer reads the trained tensors by name and builds the
network those branches compute for 16 kHz:

    576 samples (64 of context + a 512-sample chunk)
    -> reflect pad 64 -> STFT as a conv (258 basis filters, kernel 256, stride 128) -> |.|
    -> 4 x (conv k3 + ReLU) -> LSTM cell (H = 128) -> ReLU -> FC 128 -> 1 -> sigmoid

tests/test_importers.py checks the result against onnxruntime on real audio.
"""

import numpy as np

from ...network.graph import Graph, Node, UnsupportedOperator

__all__ = ["import_silero", "SILERO_CHUNK", "SILERO_CONTEXT", "silero_frames"]

SILERO_CHUNK = 512
SILERO_CONTEXT = 64


def _tensors(path):
    import onnx
    from onnx import numpy_helper
    model = onnx.load(str(path))
    return {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}


def import_silero(path):
    t = _tensors(path)
    needed = ["model.stft.forward_basis_buffer", "model.decoder.rnn.weight_ih",
              "model.decoder.decoder.2.weight"] + [f"model.encoder.{k}.reparam_conv.weight"
                                                   for k in range(4)]
    missing = [n for n in needed if n not in t]
    if missing:
        raise UnsupportedOperator(f"{path} is not a Silero VAD 16 kHz model: "
                                  f"tensor {missing[0]!r} is missing")
    basis = t["model.stft.forward_basis_buffer"]              # (258, 1, 256)
    nodes = [
        Node("stft_pad", "pad", ["audio"], "padded",
             {"widths": [(0, 0), (0, SILERO_CONTEXT)], "mode": "reflect"}),
        Node("stft", "conv", ["padded"], "spectrum",
             {"weight": basis, "bias": np.zeros(basis.shape[0]), "stride": 128, "padding": 0}),
        Node("magnitude", "magnitude", ["spectrum"], "mag"),
    ]
    x = "mag"
    strides = [1, 2, 2, 1]
    for k in range(4):
        nodes.append(Node(f"encoder{k}", "conv", [x], f"enc{k}", {
            "weight": t[f"model.encoder.{k}.reparam_conv.weight"],
            "bias": t[f"model.encoder.{k}.reparam_conv.bias"],
            "stride": strides[k], "padding": 1, "relu": True}))
        x = f"enc{k}"
    hidden = t["model.decoder.rnn.weight_hh"].shape[1]
    nodes += [
        Node("flatten", "reshape", [x], "features", {"shape": (-1,)}),
        # PyTorch gate order i, f, g, o (the ONNX LSTM node reorders; these are the raw tensors)
        Node("lstm", "lstm", ["features"], "h", {
            "w_x": t["model.decoder.rnn.weight_ih"], "w_h": t["model.decoder.rnn.weight_hh"],
            "bias": t["model.decoder.rnn.bias_ih"] + t["model.decoder.rnn.bias_hh"],
            "hidden": hidden}),
        Node("decoder_relu", "relu", ["h"], "h_relu"),
        Node("decoder", "fc", ["h_relu"], "logit", {
            "weight": t["model.decoder.decoder.2.weight"][:, :, 0].T,
            "bias": t["model.decoder.decoder.2.bias"]}),
        Node("probability", "sigmoid", ["logit"], "speech"),
    ]
    return Graph(nodes, "audio", (1, SILERO_CHUNK + SILERO_CONTEXT), ["speech"])


def silero_frames(audio):
    """The model's frames for a 16 kHz waveform: each 512-sample chunk with the 64 samples
    before it as context (zeros before the start), as Silero's own wrapper feeds it."""
    audio = np.asarray(audio, dtype=np.float64).reshape(-1)
    chunks = len(audio) // SILERO_CHUNK
    padded = np.concatenate([np.zeros(SILERO_CONTEXT), audio[:chunks * SILERO_CHUNK]])
    idx = (np.arange(chunks)[:, None] * SILERO_CHUNK
           + np.arange(SILERO_CHUNK + SILERO_CONTEXT)[None, :])
    return padded[idx].reshape(chunks, 1, -1)
