"""Per-frame performance counters: the events the RTL's counters count (hw/ perf port).

:func:`frame_counters` gives one layer's counts in one frame; its cycles come from the cycle
model (golden/cycle_model.py), the stalls from the schedule.
"""

import dataclasses

from .cycle_model import busy_cycles, entry_count

__all__ = ["Counters", "frame_counters"]


@dataclasses.dataclass(slots=True)
class Counters:
    """Per-frame performance counters; the RTL counts the same events."""
    cycles: int = 0            # busy cycles (stall cycles excluded)
    stall_cycles: int = 0      # waiting for an input beat or for a free output bank
    inputs_scanned: int = 0
    inputs_changed: int = 0
    macs: int = 0              # useful multiply-accumulates (padding lanes excluded)
    weight_words: int = 0
    index_reads: int = 0
    index_writes: int = 0
    output_reads: int = 0      # output area reads (previous outputs)
    output_writes: int = 0     # output area writes

    def as_dict(self):
        return dataclasses.asdict(self)

    def __add__(self, other):
        return Counters(**{f: getattr(self, f) + getattr(other, f) for f in Counters.FIELDS})

    @classmethod
    def from_word(cls, word):
        """The counters packed as the engine's ``perf`` port packs them: 32 bits per field, in
        field order from the LSBs (the engine's perf_layout)."""
        return cls(*[(word >> (32 * i)) & 0xFFFFFFFF for i in range(len(cls.FIELDS))])


Counters.FIELDS = tuple(f.name for f in dataclasses.fields(Counters))


def frame_counters(engine, layer, n_changed, first, entries=None):
    """Event counts of one frame (cycles and stalls come from the cycle model); ``entries``:
    the change-list entries each block runs (:func:`golden.cycle_model.block_entries`), by
    default ``n_changed``."""
    n, m = layer.inputs, layer.outputs
    lanes = engine.lanes
    blocks = layer.blocks(lanes)
    reuse = engine.reuse
    if entries is None:
        entries = [n_changed] * blocks
    return Counters(
        cycles=busy_cycles(engine, layer, n_changed, entries),
        stall_cycles=0,
        inputs_scanned=n,
        inputs_changed=n_changed,
        macs=sum(entry_count(e) * min(lanes, m - b * lanes) for b, e in enumerate(entries)),
        weight_words=sum(entry_count(e) for e in entries),
        index_reads=n if reuse else 0,
        index_writes=n_changed if reuse else 0,
        output_reads=blocks if reuse and not first else 0,
        output_writes=blocks if reuse else 0,
    )
