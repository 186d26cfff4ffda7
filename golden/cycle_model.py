"""Cycle model of the reuse engine: when every index write, output write and output beat happens.

This is the cycle contract of docs/design.md made exact for the engine of hw/. Time 0 is the first
cycle after the start-of-sequence strobe. For frame f (N inputs, n changed, B output blocks):

- scan starts at S_f (S_0 = 0); the input stream is ready throughout the scan, so input j is
  accepted at a_j = max(presented_j, S_f) (presented by the source, see :class:`Pattern`);
- the scan pipeline writes the index area and the change list at a_j + 4 (the indices are
  registered twice after the block RAMs before they are compared), and the correct phase may
  issue at a_last + 4 (SCAN_DRAIN = 3 cycles after the last accept: its first LOAD reads the
  list's length as it is counted, and its first MAC reads the list at a_last + 5);
- correct issues K = 1 + B * (n + 1) operations, one per cycle: the first block's LOAD, then
  per block n MACs and its STORE, which issues the next block's LOAD in the same cycle (the
  accumulators hand the stored block to the output path as they take the next one); it starts
  at C_f = max(a_last + 4, cycle the frame's output bank is free);
- a STORE issued at t writes the output area at t + 9 and the activation bank at t + 12 (the
  change-list entry is registered before the weight-address adder, the weight buffer's read
  latency is 3: its banks' outputs are registered, then registered again (after the first
  level of the bank multiplexer when there are several banks); the MAC array adds a product
  two cycles after it multiplies; the output unit has three stages);
- the next scan starts at S_{f+1} = C_f + K;
- busy cycles per frame are N + SCAN_DRAIN + 1 + B * (n + 1); everything else is a stall;
- the output streamer sends frame f's bank once it is complete (last bank write + 1) and the
  previous frame's last beat has gone: its first beat is visible OUTPUT_READ_LATENCY cycles
  after the first read (the bank read, then the registered payload), then one beat per
  accepted cycle.

An engine with a layer table (max_layers > 1) runs the network's layers in order for every frame,
and every layer starts with LAYER_SWITCH cycles, in which the previous layer's last block reaches
its activation bank (its STORE writes the bank 12 cycles after issue) and leaves the pipeline before
the layer registers change; the switch to layer 0 follows the start strobe or the previous frame's
last operation. Layer 0 then scans the input stream as above; layer l > 0 scans the previous layer's
outputs from a hidden activation bank, one input per cycle without bubbles. Only the last layer
waits for a free output bank. A layer's STORE of block b writes its hidden bank (layers before the
last) at issue + 12, like the output bank.

An engine with the LSTM unit (``lstm = true``) has LSTM_LATENCY more cycles in every layer switch.
An LSTM layer scans x_t from the hidden bank and then h_{t-1} from the recurrent area, one input per
cycle (an LSTM layer 0 scans x_t from the input stream, then h_{t-1} from the recurrent area in the
cycles after its last x_t input); its blocks go through the LSTM unit, and the STORE of every fourth
block (and of the last) writes a word of h_t (``lanes`` units) to its bank and to the recurrent area
at issue + 12 + LSTM_LATENCY.

A conv layer (``conv = true``) drains CONV_DRAIN cycles instead of SCAN_DRAIN (its last input
reaches the position table and the list's length before its first block reads them), and its
block b runs only the change-list entries in its window: LOAD, ``entries[b]`` MACs, STORE
(:func:`block_entries`). A 2-D conv block's window is one segment per kernel row inside the
map, and ``entries[b]`` is a tuple of each segment's entries; the block's segments are all
read at once, while the block before it runs, so they run back to back and an empty one costs
nothing: :func:`block_cycles`.
"""

import dataclasses
import functools

import numpy as np

from .stream_pattern import Pattern

__all__ = ["busy_cycles", "schedule", "schedule_network", "SCAN_DRAIN",
           "INDEX_WRITE_LATENCY", "OUTPUT_WRITE_LATENCY", "BANK_WRITE_LATENCY", "LAYER_SWITCH",
           "OUTPUT_READ_LATENCY", "LSTM_LATENCY", "CONV_DRAIN", "cycle_bound", "switch_cycles",
           "scan_drain", "scan_beats", "aligned_inputs", "block_entries", "block_cycles",
           "entry_count", "layer_cycles"]

SCAN_DRAIN = 3
INDEX_WRITE_LATENCY = 4
OUTPUT_WRITE_LATENCY = 9
BANK_WRITE_LATENCY = 12
LAYER_SWITCH = BANK_WRITE_LATENCY + 1
OUTPUT_READ_LATENCY = 2
LSTM_LATENCY = 5
CONV_DRAIN = SCAN_DRAIN + 2


def switch_cycles(engine):
    """Cycles each layer starts with: LAYER_SWITCH on an engine with a layer table, and
    LSTM_LATENCY more on an engine with the LSTM unit or the magnitude unit (conv engines: an
    LSTM or magnitude layer's last word reaches its bank that much later)."""
    if engine.max_layers == 1:
        return 0
    return LAYER_SWITCH + (LSTM_LATENCY if engine.lstm or engine.conv else 0)


def _result_writes(layer, lanes, stores, results):
    """``(cycle, word, values)`` of the bank words a layer's results fill, from the issue
    cycles of its STOREs: one word per block for an FC layer (at STORE + BANK_WRITE_LATENCY);
    an LSTM layer's h_t words (a block holds lanes / 4 units, so a word fills at every fourth
    block and at the last) come out of the LSTM unit LSTM_LATENCY cycles later."""
    words = layer.result_words(lanes)
    padded = np.zeros(words * lanes, dtype=np.int64)
    padded[:layer.results] = results
    values = [tuple(int(v) for v in padded[w * lanes:(w + 1) * lanes]) for w in range(words)]
    blocks_per_word = layer.blocks_per_word
    if blocks_per_word == 1:
        return [(store + BANK_WRITE_LATENCY, b, values[b]) for b, store in enumerate(stores)]
    return [(store + BANK_WRITE_LATENCY + LSTM_LATENCY, b // blocks_per_word,
             values[b // blocks_per_word])
            for b, store in enumerate(stores)
            if b % blocks_per_word == blocks_per_word - 1 or b == len(stores) - 1]


def scan_drain(layer, scan_width=1):
    """Cycles from a layer's last accepted beat to its first LOAD, less one: a conv layer
    waits two more, until its last input is counted in the position table and the list's
    length (its blocks read their windows' entries from them); a wide scan one more, for the
    compaction into the banked change list."""
    return (CONV_DRAIN if layer.kind == "conv" else SCAN_DRAIN) + (scan_width > 1)


def scan_beats(inputs, scan_width=1):
    """Scan cycles of ``inputs`` inputs, ``scan_width`` a beat."""
    return -(-inputs // scan_width)


def aligned_inputs(inputs, scan_width=1):
    """Index-area entries a layer of ``inputs`` inputs takes, to a whole beat (the next
    layer's indices start at a word)."""
    return scan_beats(inputs, scan_width) * scan_width


def block_entries(layer, lanes, changed):
    """Change-list entries each block of a layer runs: every entry for FC and LSTM layers;
    for a conv layer, the changed inputs in the block's window (a 2-D conv: a tuple, per
    window segment). ``changed``: the frame's change mask over the layer's inputs (or, for FC
    and LSTM layers, their number)."""
    if layer.kind != "conv":
        n = int(changed if np.ndim(changed) == 0 else np.count_nonzero(changed))
        return [n] * layer.blocks(lanes)
    before = np.concatenate([[0], np.cumsum(np.asarray(changed).reshape(layer.length, -1)
                                            .sum(axis=1))])
    lo, hi, starts = _segment_bounds(layer, lanes)
    counts = (before[hi] - before[lo]).tolist()
    if not layer.columns:
        return counts                               # one segment per block
    return [tuple(counts[a:b]) for a, b in zip(starts, starts[1:] + (len(counts),))]


@functools.lru_cache(maxsize=32)
def _segment_bounds(layer, lanes):
    """A conv layer's window segments, once per layer (a frame only counts its changes in
    them): every segment's first and end input positions, and each block's first segment."""
    segments = [layer.segments(b, lanes) for b in range(layer.blocks(lanes))]
    starts = tuple(np.cumsum([0] + [len(s) for s in segments[:-1]]).tolist())
    lo, hi = (np.array([seg[k] for block in segments for seg in block], dtype=np.int64)
              for k in (0, 1))
    lo.flags.writeable = hi.flags.writeable = False
    return lo, hi, starts


def entry_count(entries):
    """Change-list entries a block runs (``entries``: a count, or a 2-D conv block's tuple of
    per-segment counts)."""
    return sum(entries) if isinstance(entries, tuple) else entries


def block_cycles(entries):
    """Issue cycles of one block: its entries (a 2-D conv block's segments back to back) and
    its STORE, which issues the next block's LOAD (a layer's first LOAD is one more cycle:
    :func:`layer_cycles`)."""
    return entry_count(entries) + 1


def busy_cycles(engine, layer, n_changed, entries=None):
    """Busy cycles of one layer in one frame (the layer switch included); ``entries`` is the
    change-list entries of every block (:func:`block_entries`), by default ``n_changed``."""
    if entries is None:
        entries = [n_changed] * layer.blocks(engine.lanes)
    width = engine.scan_width
    return layer_cycles(switch_cycles(engine), scan_beats(layer.inputs, width),
                        scan_drain(layer, width), entries)


def layer_cycles(switch, beats, drain, entries):
    """Busy cycles of a layer in a frame from its parts: the layer switch, one scan cycle per
    beat, the drain, the first LOAD and every block's issue cycles (``entries``: each block's
    change-list entries, :func:`block_cycles`)."""
    return switch + beats + drain + 1 + sum(block_cycles(e) for e in entries)


def cycle_bound(engine, layer, n_changed):
    """The cycle contract (docs/design.md): ceil(N / W) + B * n + B + 17, one more with a wide
    scan (W > 1: its change list is written a cycle later)."""
    blocks = layer.blocks(engine.lanes)
    return (scan_beats(layer.inputs, engine.scan_width) + blocks * n_changed + blocks + 17
            + (engine.scan_width > 1))


@dataclasses.dataclass
class LayerTiming:
    scan_start: int
    accepts: np.ndarray         # cycle each input enters the scan
    correct_start: int
    entries: list               # change-list entries each block runs
    stall_cycles: int           # input bubbles (layer 0), waiting for the output bank (last)

    @property
    def stores(self):
        """Issue cycle of every block's STORE (the first LOAD issues at correct_start)."""
        return list(self.correct_start + np.cumsum([block_cycles(e) for e in self.entries]))


@dataclasses.dataclass
class FrameTiming:
    layers: list                # LayerTiming of each layer
    stall_cycles: int
    bank_complete: int          # first cycle the frame's output bank is complete
    beats: list                 # accept cycle of each output beat

    # the one-layer view
    scan_start = property(lambda self: self.layers[0].scan_start)
    accepts = property(lambda self: self.layers[0].accepts)
    correct_start = property(lambda self: self.layers[-1].correct_start)


@dataclasses.dataclass
class Schedule:
    frames: list

    def trace(self, engine, layers, results, changes):
        """Cycle-stamped events ``(cycle, kind, address, values)``, sorted.

        ``layers`` are the network's LayerConfigs, ``results[l]`` layer l's RunResult and
        ``changes[l][f] = (changed input indices, their new cluster indices)``.
        Index and output areas are addressed with the layer's base (golden.network_writes);
        hidden bank writes (``"bank_write"``, layers before the last) by word.
        """
        lanes = engine.lanes
        events = []
        index_base = block_base = 0
        for l, layer in enumerate(layers):
            blocks = layer.blocks(lanes)
            reuse = engine.reuse and layer.reuse
            hidden = l < len(layers) - 1
            result = results[l]
            for f, frame in enumerate(self.frames):
                timing = frame.layers[l]
                idx, q = changes[l][f]
                if reuse:
                    for i, qi in zip(idx, q):
                        events.append((int(timing.accepts[i]) + INDEX_WRITE_LATENCY,
                                       "index_write", index_base + int(i), (int(qi),)))
                z = np.zeros(blocks * lanes, dtype=np.int64)
                z[:layer.outputs] = result.preactivations[f]
                stores = [int(t) for t in timing.stores]
                if reuse:
                    for b, store in enumerate(stores):
                        events.append((store + OUTPUT_WRITE_LATENCY, "output_write",
                                       block_base + b,
                                       tuple(int(v) for v in z[b * lanes:(b + 1) * lanes])))
                writes = _result_writes(layer, lanes, stores, result.outputs[f])
                if hidden:
                    events += [(t, "bank_write", w, values) for t, w, values in writes]
                else:
                    events += [(beat, "beat", w, values)
                               for beat, (_, w, values) in zip(frame.beats, writes)]
            index_base += aligned_inputs(layer.inputs, engine.scan_width)
            block_base += blocks
        events.sort()
        return events


def schedule(engine, layer, n_changed, *, input_valid=None, output_ready=None):
    """Timing of a one-layer frame sequence with ``n_changed[f]`` changed inputs in frame f
    (an FC layer)."""
    return schedule_network(engine, [layer], [[n] for n in n_changed],
                            input_valid=input_valid, output_ready=output_ready)


def schedule_network(engine, layers, n_changed, *, input_valid=None, output_ready=None):
    """Timing of a frame sequence through ``layers``; ``n_changed[f][l]`` is the changed inputs
    of layer l in frame f, or the list of every block's change-list entries
    (:func:`block_entries`, needed for conv layers)."""
    valid = input_valid or Pattern.always()
    ready = output_ready or Pattern.always()
    switch = switch_cycles(engine)
    out_words = layers[-1].result_words(engine.lanes)
    frames = []
    t = 0                           # first cycle of the frame's next layer
    last_accept = -1                # accept cycle of the previous input-stream beat
    stream_end = []                 # cycle of each frame's last accepted output beat
    for f, counts in enumerate(n_changed):
        stall = 0
        timings = []
        for l, (layer, n) in enumerate(zip(layers, counts)):
            stall_before = stall
            scan_start = t + switch
            beats = scan_beats(layer.inputs, engine.scan_width)
            if l == 0:
                # the input stream; an LSTM layer 0 then scans h_{t-1}, a beat a cycle
                streamed = scan_beats(layer.x_inputs, engine.scan_width)
                beat_accepts = np.empty(beats, dtype=np.int64)
                for i in range(streamed):
                    presented = valid.next_one(last_accept + 1)
                    last_accept = max(presented, scan_start if i == 0 else last_accept + 1)
                    beat_accepts[i] = last_accept
                beat_accepts[streamed:] = last_accept + 1 + np.arange(beats - streamed)
                stall += int(beat_accepts[-1]) - scan_start + 1 - beats
            else:
                beat_accepts = scan_start + np.arange(beats, dtype=np.int64)
            accepts = np.repeat(beat_accepts, engine.scan_width)[:layer.inputs]
            scan_done = int(beat_accepts[-1]) + scan_drain(layer, engine.scan_width) + 1
            correct_start = scan_done
            if l == len(layers) - 1:
                # ping-pong: this frame's output bank was last used two frames ago
                bank_free = stream_end[f - 2] + 1 if f >= 2 else 0
                correct_start = max(scan_done, bank_free)
                stall += correct_start - scan_done
            entries = (list(n) if isinstance(n, (list, tuple, np.ndarray))
                       else [int(n)] * layer.blocks(engine.lanes))
            timings.append(LayerTiming(scan_start, accepts, correct_start, entries,
                                       stall - stall_before))
            t = correct_start + 1 + sum(block_cycles(e) for e in entries)
        bank_complete = t - 1 + BANK_WRITE_LATENCY + 1
        if layers[-1].blocks_per_word > 1:          # through the LSTM or magnitude unit
            bank_complete += LSTM_LATENCY
        read = max(bank_complete, stream_end[f - 1] + 1 if f >= 1 else 0)
        beats = []
        visible = read + OUTPUT_READ_LATENCY
        for _ in range(out_words):
            beat = ready.next_one(visible)
            beats.append(beat)
            visible = beat + 1
        stream_end.append(beats[-1])
        frames.append(FrameTiming(timings, stall, bank_complete, beats))
    return Schedule(frames)
