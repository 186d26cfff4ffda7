"""The reuse engine, frame by frame: the specification hw/ implements.

The scan is golden/scan_unit.py, the correct phase golden/issue_unit.py, the counts
golden/perf_counters.py and the timing golden/cycle_model.py.

Per frame (docs/design.md "Execution of one layer for one frame"):

1. scan: quantize the N inputs, compare with the index area, build the change list (i, d_i),
   update the index area;
2. correct: for each block of ``lanes`` outputs, start from the previous outputs (the bias on a
   first execution), add d_i * W[i, block] for every change-list entry, store the block in the
   output area and send it through the output unit.

With ``reuse=False`` every input is "changed", d_i = x_i (unquantized) and every frame starts
from the bias: the baseline accelerator.

:func:`full_recompute` and :func:`baseline_layer` are the independent references: plain NumPy
matrix products that know nothing of indices, deltas or change lists.
"""

import dataclasses

import numpy as np

from .cycle_model import block_entries, schedule_network
from .issue_unit import correct, exact_product_rows, product_type
from .layer_config import check_network, check_weights
from .lstm_unit import GATES, lstm_unit
from .magnitude_unit import magnitude_unit
from .output_unit import output_unit
from .perf_counters import Counters, frame_counters
from .quantizer import quantize
from .scan_unit import scan, scan_sequence

__all__ = ["RunResult", "ReuseEngine", "full_recompute", "baseline_layer", "golden_run",
           "golden_network_run", "lstm_run", "conv_run"]


@dataclasses.dataclass
class RunResult:
    """What golden and the simulated RTL both return for a frame sequence.

    ``outputs`` is (frames, M) post-activation outputs; ``preactivations`` is (frames, M)
    accumulator values; ``counters`` one :class:`Counters` per frame; ``trace`` the
    cycle-stamped events ``(cycle, kind, address, values)`` with kind one of
    ``"index_write"``, ``"output_write"``, ``"bank_write"``, ``"beat"`` (empty when not
    requested). For a network, outputs and preactivations are the last layer's, counters the
    frame's totals over all layers, and ``layers`` one RunResult per layer (golden only).
    ``timing`` is golden's :class:`golden.cycle_model.Schedule` of the sequence (golden only).
    """
    outputs: np.ndarray
    preactivations: np.ndarray
    counters: list
    trace: list = dataclasses.field(default_factory=list)
    layers: list = dataclasses.field(default_factory=list)
    timing: object = None
    entries: list = None        # a conv layer's change-list entries per block, per frame


class ReuseEngine:
    """Golden model of one layer on the reuse engine (an FC layer; LSTM and conv layers run
    through :func:`lstm_run` and :func:`conv_run`), stateful across frames."""

    def __init__(self, engine, layer, weights, bias):
        self.engine = engine
        self.layer = layer
        self.weights, self.bias = check_weights(engine, layer, weights, bias)
        # quantize() of every activation value: a table lookup replaces the search per input
        values = np.arange(engine.act_min, engine.act_max + 1)
        self._quantize_table = quantize(values, layer.centroids)
        # |d| <= 2**act_width - 1 (difference of two centroids), |w| <= 2**(weight_width-1)
        self._product_bound = ((1 << engine.act_width) - 1) * engine.weight_max_abs
        # the weights once in the type whose products are exact (golden.issue_unit)
        self._w = self.weights.astype(product_type(self._product_bound, layer.inputs))
        self._counters = {}
        self.start_sequence()

    def start_sequence(self):
        """The next frame is a first execution: no previous indices or outputs."""
        self.first = True
        self.index_area = np.zeros(self.layer.inputs, dtype=np.int64)
        self.output_area = np.zeros(self.layer.outputs, dtype=np.int64)

    def _check_frame(self, x):
        x = np.asarray(x)
        if x.shape != (self.layer.inputs,):
            raise ValueError(f"frame has shape {x.shape}: "
                             f"expected (inputs,) = ({self.layer.inputs},)")
        if x.min() < self.engine.act_min or x.max() > self.engine.act_max:
            raise ValueError(f"frame values must be act_width = {self.engine.act_width} bit: "
                             f"found {int(x.min())}..{int(x.max())}")
        return x.astype(np.int64)

    def scan(self, x):
        """Scan phase: returns the change list (indices, deltas) and updates the index area."""
        return scan(self._check_frame(x), self.layer.centroids, self.index_area, self.first,
                    self.engine.reuse)

    def step(self, x):
        """Run one frame: returns ``(outputs, preactivations, counters, (idx, q_new_of_idx))``."""
        first = self.first or not self.engine.reuse
        idx, d = self.scan(x)
        start = self.bias if first else self.output_area
        z = correct(start, d, self._w[idx], self._product_bound)
        if self.engine.reuse:
            self.output_area = z
        self.first = False
        y = output_unit(z, self.layer.activation, self.layer.shift, self.engine.act_width)
        return y, z, self.frame_counters(len(idx), first), idx

    def run(self, frames):
        """Run a frame sequence at once: the same result as :meth:`step` frame by frame.

        The reuse recurrence z_f = z_{f-1} + D_f W is linear, so the deltas of all frames are
        found first (one vectorized scan) and the outputs are a running sum of one matrix
        product; integers throughout, exact (see :func:`golden.issue_unit.exact_product`).
        Returns ``(RunResult, changed)`` with ``changed`` the (frames, N) change mask.
        """
        x = np.asarray(frames, dtype=np.int64)
        if x.ndim != 2 or x.shape[1] != self.layer.inputs:
            raise ValueError(f"frames have shape {x.shape}: expected (frames, inputs) = "
                             f"(F, {self.layer.inputs})")
        if x.size and (x.min() < self.engine.act_min or x.max() > self.engine.act_max):
            raise ValueError(f"frame values must be act_width = {self.engine.act_width} bit")
        n_frames = len(x)
        firsts = np.zeros(n_frames, dtype=bool)
        if not self.engine.reuse:
            changed = np.ones(x.shape, dtype=bool)
            d = x
            firsts[:] = True
        else:
            q = self._quantize_table[x - self.engine.act_min]
            changed, d, firsts = scan_sequence(q, self.index_area, self.layer.centroids,
                                               self.first)
            if n_frames:
                self.index_area = q[-1].copy()
        products = exact_product_rows(d, self._w, self._product_bound)
        if self.engine.reuse:
            start = self.bias if self.first else self.output_area
            z = np.cumsum(products, axis=0, out=products)
            z += start
            if n_frames:
                self.output_area = z[-1].copy()
                self.first = False
        else:
            z = self.bias + products
        y = output_unit(z, self.layer.activation, self.layer.shift, self.engine.act_width)
        counts = changed.sum(axis=1).tolist()
        counters = [self.frame_counters(n, f) for n, f in zip(counts, firsts.tolist())]
        return RunResult(y, z, counters), changed

    def frame_counters(self, n_changed, first):
        """A frame's :func:`golden.perf_counters.frame_counters`, a new object (the schedule
        fills in its stall cycles). They depend on the change count and the first execution
        alone, so each pair is counted once: counting block by block costs more than a frame's
        products."""
        key = (n_changed, first)
        if key not in self._counters:
            c = frame_counters(self.engine, self.layer, n_changed, first)
            self._counters[key] = tuple(getattr(c, f) for f in Counters.FIELDS)
        return Counters(*self._counters[key])


def full_recompute(layer, weights, bias, frames):
    """Independent reference for reuse: b + sum_i c[q_i] W[i, :] from scratch, every frame."""
    c = np.asarray(layer.centroids, dtype=np.int64)
    xq = c[quantize(np.asarray(frames), layer.centroids)]
    return np.asarray(bias, dtype=np.int64) + xq @ np.asarray(weights, dtype=np.int64)


def baseline_layer(weights, bias, frames):
    """Independent reference for the baseline accelerator: b + x W on raw activations."""
    return (np.asarray(bias, dtype=np.int64)
            + np.asarray(frames, dtype=np.int64) @ np.asarray(weights, dtype=np.int64))


def golden_run(engine, layer, weights, bias, frames, *, input_valid=None, output_ready=None,
               trace=True):
    """Run a frame sequence (starting a new sequence) through the golden model and its cycle model.

    ``input_valid`` and ``output_ready`` are :class:`golden.stream_pattern.Pattern` objects (or
    ``None`` for no bubbles / no backpressure), the same ones the RTL harness uses.
    """
    return golden_network_run(engine, [(layer, weights, bias)], frames, input_valid=input_valid,
                              output_ready=output_ready, trace=trace)


def lstm_run(engine, layer, weights, bias, frames):
    """Run a frame sequence through an LSTM layer (its gate layer on the engine, then the LSTM
    unit): frame f's inputs are ``[frames[f] ; h_{f-1}]`` (h_{-1} = 0), so frames run one by
    one. Returns ``(RunResult, changed, inputs)``: outputs are h_t (frames, hidden; after a
    ReLU if that is the layer's activation, which the recurrent input is not),
    preactivations the interleaved gate accumulators (frames, 4 * hidden), ``inputs`` the
    scanned [x_t ; h_{t-1}] of every frame."""
    # the gates' output unit has no ReLU: an LSTM layer's applies to h_t
    model = ReuseEngine(engine, dataclasses.replace(layer, activation="none"), weights, bias)
    hidden = layer.hidden
    h = np.zeros(hidden, dtype=np.int64)
    c = np.zeros(hidden, dtype=np.int64)
    hs, zs, counters, changed, inputs = [], [], [], [], []
    for x in np.asarray(frames, dtype=np.int64):
        xh = np.concatenate([x, h])
        result, ch = model.run(xh[None])
        # output 4u + k is gate k of unit u
        i, f, g, o = result.outputs[0].reshape(hidden, GATES).T
        h, c = lstm_unit(i, f, g, o, c)
        hs.append(np.maximum(h, 0) if layer.activation == "relu" else h)
        zs.append(result.preactivations[0])
        counters += result.counters
        changed.append(ch[0])
        inputs.append(xh)
    return (RunResult(np.array(hs).reshape(-1, hidden), np.array(zs).reshape(-1, layer.outputs),
                      counters), np.array(changed), np.array(inputs))


def conv_run(engine, layer, weights, bias, frames):
    """Run a frame sequence through a conv layer: the reuse of an FC layer whose weights are
    the taps placed in every output position's window (``LayerConfig.fc_weights``: the
    same sums), with the counts of the conv dataflow, where each block runs only the
    change-list entries in its window. Returns ``(RunResult, changed)``; the result's
    ``entries[f]`` are frame f's entries per block."""
    fc = dataclasses.replace(layer, kind="fc", channels=0, kernel=0, stride=1, padding=0,
                             columns=0, magnitude_shift=0, outer_padding=(),
                             activation="none" if layer.activation == "magnitude" else
                             layer.activation)
    model = ReuseEngine(engine, fc, layer.fc_weights(weights),
                     np.tile(np.asarray(bias, dtype=np.int64), layer.positions))
    first = model.first
    result, changed = model.run(frames)
    firsts = [not engine.reuse or (f == 0 and first) for f in range(len(changed))]
    result.entries = [block_entries(layer, engine.lanes, ch) for ch in changed]
    result.counters = [frame_counters(engine, layer, int(ch.sum()), first, entries)
                       for ch, first, entries in zip(changed, firsts, result.entries)]
    if layer.activation == "magnitude":
        result.outputs = magnitude_unit(result.outputs, layer.magnitude_shift, engine.act_width)
    return result, changed


def golden_network_run(engine, layers, frames, *, input_valid=None, output_ready=None,
                       trace=True):
    """Run a frame sequence through a network of layers, ``(LayerConfig, weights, bias)``
    in order (golden.network_writes loads it), each frame through every layer in turn.

    Layer l's input sequence is layer l-1's result sequence, so each FC layer runs over the
    whole sequence at once (:meth:`ReuseEngine.run`), an LSTM layer frame by frame
    (:func:`lstm_run`); the cycle model then interleaves them.
    """
    layers = check_network(engine, layers)
    x = np.asarray(frames)
    results, changes = [], []
    for layer, weights, bias in layers:
        mode = engine.replace(reuse=engine.reuse and layer.reuse)
        if layer.kind == "lstm":
            # x_t fills whole bank words: the previous layer's padding lanes are 0
            x = np.pad(x, ((0, 0), (0, layer.x_inputs - x.shape[1])))
            result, changed, x = lstm_run(mode, layer, weights, bias, x)
        elif layer.kind == "conv":
            result, changed = conv_run(mode, layer, weights, bias, x)
        else:
            model = ReuseEngine(mode, layer, weights, bias)
            result, changed = model.run(x)
        if trace:
            # the changed inputs and their new indices, for the index-write events
            q = quantize(x, layer.centroids) if mode.reuse else None
            changes.append([(np.flatnonzero(ch), None if q is None else q[f][ch])
                            for f, ch in enumerate(changed)])
        results.append(result)
        x = result.outputs
    n_changed = [[r.entries[f] if r.entries else r.counters[f].inputs_changed for r in results]
                 for f in range(len(frames))]
    timing = schedule_network(engine, [layer for layer, _, _ in layers], n_changed,
                              input_valid=input_valid, output_ready=output_ready)
    totals = []
    for f, frame in enumerate(timing.frames):
        total = Counters()
        for result, layer_timing in zip(results, frame.layers):
            result.counters[f].stall_cycles = layer_timing.stall_cycles
            total = total + result.counters[f]
        totals.append(total)
    last = results[-1]
    out = RunResult(last.outputs, last.preactivations, totals, layers=results, timing=timing)
    if trace:
        out.trace = timing.trace(engine, [layer for layer, _, _ in layers], results, changes)
    return out
