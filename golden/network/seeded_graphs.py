"""The built-in networks' graphs with seeded random weights: shapes of the paper's networks,
at the paper's size or scaled to an engine.

No trained model of these shapes can be fetched from a package registry, so the weights are
seeded random (scaled 1 / sqrt(fan-in)); the figures they are for (input similarity,
computation reuse, cycles) depend on the input sequence, not on training.
"""

import numpy as np

from .graph import Graph, Node

__all__ = ["KALDI_PAPER_WIDTHS", "KALDI_ENGINE_WIDTHS", "kaldi_mlp", "speech_lstm_graph",
           "video_cnn_graph", "video_conv_graph"]

# FC1 360x360, FC2 360x2000, FC3-FC5 400x2000 after p-norm groups of 5, FC6 400 x senones
KALDI_PAPER_WIDTHS = (360, 360, 2000, 2000, 2000, 2000, 3482)
# scaled down so a frame runs on the engine in a few thousand cycles (no p-norm)
KALDI_ENGINE_WIDTHS = (360, 64, 128, 128, 128, 128, 32)


def kaldi_mlp(seed=0, widths=KALDI_PAPER_WIDTHS, pnorm=5):
    """An MLP of the paper's Kaldi shape (Table I) on 9 x 40 spliced filterbanks: six FC
    layers of the given output ``widths`` (``widths[0]``: the inputs), FC1 without ReLU, the
    last layer linear, and before FC3-FC6 a p-norm over groups of ``pnorm`` outputs (here the
    max over the group; 1: none, as on the engine, which has no p-norm layer)."""
    rng = np.random.default_rng(seed)
    nodes = []
    x, n = "features", widths[0]
    last = len(widths) - 1
    for k in range(1, len(widths)):
        if k >= 3 and pnorm > 1:
            n //= pnorm
            nodes += [Node(f"pnorm{k - 1}", "reshape", [x], f"g{k}", {"shape": (n, pnorm)}),
                      Node(f"pool{k - 1}", "max_pool", [f"g{k}"], f"p{k}",
                           {"kernel": pnorm, "stride": pnorm}),
                      Node(f"flat{k - 1}", "reshape", [f"p{k}"], f"in{k}", {"shape": (n,)})]
            x = f"in{k}"
        m = widths[k]
        w = rng.normal(0, 1 / np.sqrt(n), (n, m))
        nodes.append(Node(f"FC{k}", "fc", [x], f"h{k}",
                          {"weight": w, "bias": rng.normal(0, 0.1, m), "relu": 1 < k < last}))
        x, n = f"h{k}", m
    return Graph(nodes, "features", (widths[0],), [x])


def speech_lstm_graph(seed=0, features=360, front=128, hidden=64, outputs=32):
    """An LSTM acoustic model's shape: FC front end (ReLU) on 9 x 40 spliced filterbanks, one
    LSTM cell (paper IV-D: the gates share one change check), a linear FC output layer. Seeded
    random weights; the recurrent weights are scaled so h_t does not saturate."""
    rng = np.random.default_rng(seed)
    gates = 4 * hidden
    nodes = [
        Node("FC1", "fc", ["features"], "h1",
             {"weight": rng.normal(0, 1 / np.sqrt(features), (features, front)),
              "bias": rng.normal(0, 0.1, front), "relu": True}),
        Node("LSTM", "lstm", ["h1"], "h2",
             {"w_x": rng.normal(0, 1 / np.sqrt(front), (gates, front)),
              "w_h": rng.normal(0, 0.5 / np.sqrt(hidden), (gates, hidden)),
              "bias": rng.normal(0, 0.1, gates), "hidden": hidden}),
        Node("FC2", "fc", ["h2"], "out",
             {"weight": rng.normal(0, 1 / np.sqrt(hidden), (hidden, outputs)),
              "bias": rng.normal(0, 0.1, outputs), "relu": False}),
    ]
    return Graph(nodes, "features", (features,), ["out"])


def video_cnn_graph(seed=0, size=16, filters=(16, 16), outputs=10):
    """A small 2-D CNN's shape on a grayscale video frame of ``size`` x ``size``: conv 3 x 3
    (stride 1, padding 1, ReLU), conv 3 x 3 (stride 2, padding 1, ReLU), flatten, FC. Seeded
    random weights."""
    rng = np.random.default_rng(seed)
    c1, c2 = filters
    half = size // 2
    nodes = [
        Node("CONV1", "conv", ["frame"], "h1",
             {"weight": rng.normal(0, 1 / 3, (c1, 1, 3, 3)), "bias": rng.normal(0, 0.1, c1),
              "stride": 1, "padding": 1, "relu": True}),
        Node("CONV2", "conv", ["h1"], "h2",
             {"weight": rng.normal(0, 1 / np.sqrt(9 * c1), (c2, c1, 3, 3)),
              "bias": rng.normal(0, 0.1, c2), "stride": 2, "padding": 1, "relu": True}),
        Node("FLATTEN", "reshape", ["h2"], "h3", {"shape": (c2 * half * half,)}),
        Node("FC", "fc", ["h3"], "out",
             {"weight": rng.normal(0, 1 / np.sqrt(c2 * half * half), (c2 * half * half, outputs)),
              "bias": rng.normal(0, 0.1, outputs), "relu": False}),
    ]
    return Graph(nodes, "frame", (1, size, size), ["out"])


def video_conv_graph(seed=0, size=32, filters=16):
    """One conv layer, 3 x 3 (stride 1, padding 1, ReLU), 1 -> ``filters``, on a grayscale
    video frame of ``size`` x ``size``: a feature map larger than an engine's buffers, for
    blocking (golden/blocking.py). Seeded random weights."""
    rng = np.random.default_rng(seed)
    nodes = [Node("CONV", "conv", ["frame"], "out",
                  {"weight": rng.normal(0, 1 / 3, (filters, 1, 3, 3)),
                   "bias": rng.normal(0, 0.1, filters), "stride": 1, "padding": 1,
                   "relu": True})]
    return Graph(nodes, "frame", (1, size, size), ["out"])
