"""Blocking of a conv layer larger than the buffers (paper IV-C), band by band.

The engine's I/O buffer holds one *band* of the layer: a range of output rows (a 1-D conv's
output positions), every filter, and the input rows its windows read. Main memory holds the
layer's whole index map (the previous cluster index of every input) and output map (the
previous pre-activation of every output). For every frame the host runs the bands in order;
for band b it

1. writes the layer registers and window table of the band's layer, where they differ from the
   band before (:func:`band_programme`);
2. on a frame after the first, moves the band's indices and previous outputs from main memory
   into the index and output areas (the engine's buffer port, ``EngineConfig.blocking``); on
   the first frame it starts a sequence instead (every input changed, outputs from the bias);
3. streams the band's input rows in and its output blocks out: one engine frame;
4. moves the band's outputs back, and the indices of the input rows it *owns*.

Neighbouring bands share input rows (the halo of a k-row kernel). Band b owns its rows before
band b+1's first: the rows after those still hold, in main memory, the indices of the previous
frame when band b+1 (or a later band) reads them, so every band compares its inputs with the
previous frame's indices, as the unblocked layer does. Each band therefore behaves exactly as a
conv layer of its own (:attr:`Band.layer`, padded only on the map edges it reaches) run over
its slice of the frames: that is the golden model (:func:`blocked_conv_run`). Every output
belongs to one band and every band scans all inputs its windows read, so the outputs and the
MACs equal the unblocked layer's; the halo rows are scanned (and counted) once per band that
reads them.
"""

import dataclasses

import numpy as np

from .config import ConfigError
from .engine import golden_network_run
from .layer_config import LayerConfig, check_network
from .perf_counters import Counters
from .programme import Region, network_writes

__all__ = ["Band", "Traffic", "BlockedResult", "conv_bands", "band_rows_for", "band_programme",
           "blocked_conv_run", "check_blocked_layer", "blocked_layer", "band_engine", "index_words"]


@dataclasses.dataclass(frozen=True)
class Band:
    """Output rows ``[out_lo, out_hi)`` of a conv layer (1-D: output positions), the input
    rows ``[in_lo, in_hi)`` they read, of which ``[in_lo, owned_hi)`` are the band's to write
    back, and the band as a conv layer of its own."""
    out_lo: int
    out_hi: int
    in_lo: int
    in_hi: int
    owned_hi: int
    layer: LayerConfig
    row_inputs: int           # inputs per input row (columns x channels; 1-D: channels)
    row_outputs: int          # outputs per output row (output columns x filters; 1-D: filters)

    @property
    def inputs(self):
        """The band's slice of the layer's inputs."""
        return slice(self.in_lo * self.row_inputs, self.in_hi * self.row_inputs)

    @property
    def owned(self):
        """The inputs whose indices the band writes back to main memory."""
        return slice(self.in_lo * self.row_inputs, self.owned_hi * self.row_inputs)

    @property
    def outputs(self):
        """The band's slice of the layer's outputs."""
        return slice(self.out_lo * self.row_outputs, self.out_hi * self.row_outputs)


def check_blocked_layer(layer):
    if layer.kind != "conv":
        raise ConfigError(f"blocking is for conv layers, not kind = {layer.kind!r}")
    if layer.activation == "magnitude":
        raise ConfigError("blocking a magnitude layer is not supported (its results pair "
                          "filters across a band's blocks)")
    return layer


def blocked_layer(network):
    """The one conv layer ``(LayerConfig, weights, bias)`` of a network that can run blocked."""
    layers = network.layers
    if len(layers) != 1 or layers[0][0].kind != "conv":
        kinds = "-".join(layer.kind for layer, _, _ in layers)
        raise ConfigError(f"network {network.name} ({kinds}): blocking runs a network of one "
                          f"conv layer")
    check_blocked_layer(layers[0][0])
    return layers[0]


def band_engine(network, rows, **params):
    """The engine sized for the bands of ``rows`` output rows of ``network``'s conv layer
    (``EngineNetwork.engine_config`` otherwise), with the buffer port when it reuses;
    ``params`` override its sizes. Raises ConfigError unless every band fits it."""
    bands = conv_bands(blocked_layer(network)[0], rows)
    params.setdefault("max_inputs", max(band.layer.inputs for band in bands))
    params.setdefault("max_outputs", max(band.layer.outputs for band in bands))
    params.setdefault("blocking", params.get("reuse", True))
    engine = network.engine_config(**params)
    for band in bands:
        engine.check_layer(band.layer)
    return engine


def network_engine(network, band_rows=None, **params):
    """The engine for ``network``: sized for it (``EngineNetwork.engine_config``) and checked
    to hold it, or with ``band_rows`` sized for one band of its conv layer
    (:func:`band_engine`); ``params`` override its sizes. Raises ConfigError unless the
    network (every band) fits."""
    if band_rows is not None:
        return band_engine(network, band_rows, **params)
    engine = network.engine_config(**params)
    check_network(engine, network.layers)
    return engine


def conv_bands(layer, rows):
    """The bands of ``rows`` output rows (1-D: positions; the last band may be shorter) of the
    conv layer ``layer``."""
    check_blocked_layer(layer)
    out_rows, out_cols = layer.out_shape
    outer = out_rows if layer.columns else out_cols
    if not isinstance(rows, int) or not 1 <= rows <= outer:
        raise ConfigError(f"band rows = {rows} is out of range: allowed 1..{outer} (output "
                          f"{'rows' if layer.columns else 'positions'} of the layer)")
    k, s = layer.kernel, layer.stride
    before, after = layer.edge_padding
    in_outer = layer.map_rows if layer.columns else layer.length
    width = layer.columns or 1
    row_inputs = width * layer.channels
    row_outputs = (out_cols if layer.columns else 1) * layer.filters
    starts = list(range(0, outer, rows))
    bands = []
    for b, lo in enumerate(starts):
        hi = min(outer, lo + rows)
        in_lo = max(0, lo * s - before)
        in_hi = min(in_outer, (hi - 1) * s - before + k)
        # the next band's first input row, where this band's rows stop being its own
        owned_hi = in_hi if b == len(starts) - 1 else min(in_hi, max(0, hi * s - before))
        pads = (max(0, before - lo * s), (hi - 1) * s - before + k - in_hi)
        rows_in = in_hi - in_lo
        band_layer = dataclasses.replace(
            layer, inputs=rows_in * row_inputs, outputs=(hi - lo) * row_outputs,
            outer_padding=pads if pads != (layer.padding, layer.padding) else ())
        bands.append(Band(lo, hi, in_lo, in_hi, owned_hi, band_layer, row_inputs, row_outputs))
    return tuple(bands)


def band_rows_for(engine, layer):
    """The most output rows per band whose bands all fit ``engine``'s buffers (its
    ``check_layer``), or a clear error if not even one row fits."""
    out_rows, out_cols = check_blocked_layer(layer).out_shape
    outer = out_rows if layer.columns else out_cols
    best, error = None, None
    lo, hi = 1, outer
    while lo <= hi:                   # fitting is monotone in the rows per band
        mid = (lo + hi) // 2
        try:
            for band in conv_bands(layer, mid):
                engine.check_layer(band.layer)
        except ConfigError as e:
            error = e
            hi = mid - 1
        else:
            best = mid
            lo = mid + 1
    if best is None:
        raise ConfigError(f"one band of the layer does not fit the engine: {error}")
    return best


def band_programme(engine, bands, weights, bias):
    """The host's configuration writes before each band: ``(load, per_band)``. ``load`` loads
    the first band's layer whole (weights, biases, centroids, registers, window table);
    ``per_band[b]`` are the writes that turn the band before b (cyclically: the last band, for
    band 0 of the next frame) into band b: registers and window entries that differ. The
    weights, biases and centroid table are the same for every band."""
    distinct = {band.layer: None for band in bands}      # inner bands are the same layer
    for layer in distinct:
        distinct[layer] = network_writes(engine, [(layer, weights, bias)])
    programmes = [distinct[band.layer] for band in bands]
    tables = {Region.REGISTER, Region.WINDOW}
    shift = engine.cfg_offset_width

    def table_writes(writes):
        return {addr: value for addr, value in writes if addr >> shift in tables}

    states = [table_writes(p) for p in programmes]
    per_band = []
    for b, state in enumerate(states):
        before = states[b - 1]
        per_band.append([(addr, value) for addr, value in state.items()
                         if before.get(addr) != value])
    return programmes[0], per_band


def index_words(count, engine):
    """Buffer-port words of ``count`` indices: a blocking engine's index area holds ``lanes``
    indices per word (hw.io_buffer)."""
    return -(-count // engine.lanes)


@dataclasses.dataclass(slots=True)
class Traffic:
    """Main-memory words one band moves in one frame through the buffer port (``lanes``
    indices, or one output block of ``lanes`` pre-activations, per word) and its
    configuration writes."""
    index_reads: int = 0          # main memory -> index area
    index_writes: int = 0         # index area -> main memory (the band's own rows)
    output_reads: int = 0         # main memory -> output area (blocks)
    output_writes: int = 0        # output area -> main memory (blocks)
    config_writes: int = 0

    @property
    def words(self):
        return self.index_reads + self.index_writes + self.output_reads + self.output_writes


Traffic.FIELDS = tuple(f.name for f in dataclasses.fields(Traffic))


@dataclasses.dataclass
class BlockedResult:
    """A blocked layer's run: ``outputs`` (frames, M) and ``preactivations`` (frames, M) of the
    whole layer, ``counters[f][b]`` band b's engine counters in frame f, ``traffic[f][b]`` its
    main-memory words, ``bands`` the bands, ``entries[f][b]`` the change-list entries of each
    of band b's blocks in frame f (golden.cycle_model.block_entries)."""
    outputs: np.ndarray
    preactivations: np.ndarray
    counters: list
    traffic: list
    bands: tuple
    entries: list = None

    def frame_cycles(self, f):
        """Frame f's cycles, transfers and configuration writes serialized with the bands'
        busy cycles (one port word or configuration write per cycle)."""
        return sum(c.cycles for c in self.counters[f]) + sum(
            t.words + t.config_writes for t in self.traffic[f])

    def arrays(self):
        """``counters`` (frames x bands x Counters.FIELDS) and ``traffic`` (frames x bands x
        Traffic.FIELDS) as int64 arrays, with ``outputs`` and ``preactivations``."""
        return {
            "outputs": self.outputs, "preactivations": self.preactivations,
            "counters": np.array([[[getattr(c, name) for name in Counters.FIELDS]
                                   for c in frame] for frame in self.counters], np.int64),
            "traffic": np.array([[[getattr(t, name) for name in Traffic.FIELDS]
                                  for t in frame] for frame in self.traffic], np.int64),
        }


def blocked_conv_run(engine, layer, weights, bias, frames, rows):
    """Run a frame sequence through a conv layer blocked in bands of ``rows`` output rows (see
    the module doc). ``engine`` is the engine of one band (``blocking = true`` when it
    reuses)."""
    bands = conv_bands(layer, rows)
    x = np.asarray(frames, dtype=np.int64)
    if x.ndim != 2 or x.shape[1] != layer.inputs:
        raise ValueError(f"frames have shape {x.shape}: expected (frames, inputs) = "
                         f"(F, {layer.inputs})")
    n = len(x)
    reuse = engine.reuse and layer.reuse
    if engine.reuse and not engine.blocking:
        raise ConfigError("a blocked layer needs an engine with blocking = true (the buffer "
                          "port moves the bands' indices and outputs)")
    outputs = np.zeros((n, layer.outputs), dtype=np.int64)
    pre = np.zeros((n, layer.outputs), dtype=np.int64)
    counters = [[None] * len(bands) for _ in range(n)]
    entries = [[None] * len(bands) for _ in range(n)]
    traffic = [[Traffic() for _ in bands] for _ in range(n)]
    _, per_band = band_programme(engine, bands, weights, bias)
    for b, band in enumerate(bands):
        result = golden_network_run(engine, [(band.layer, weights, bias)], x[:, band.inputs],
                                    trace=False)
        outputs[:, band.outputs] = result.outputs
        pre[:, band.outputs] = result.preactivations
        blocks = band.layer.blocks(engine.lanes)
        for f in range(n):
            counters[f][b] = result.counters[f]
            entries[f][b] = result.layers[0].entries[f]
            t = traffic[f][b]
            # the first band of the sequence comes with the load (one band: nothing changes)
            t.config_writes = len(per_band[b]) if f or b else 0
            if reuse:
                if f:
                    t.index_reads = index_words(band.layer.inputs, engine)
                    t.output_reads = blocks
                t.index_writes = index_words(band.owned.stop - band.owned.start, engine)
                t.output_writes = blocks
    return BlockedResult(outputs, pre, counters, traffic, bands, entries)

