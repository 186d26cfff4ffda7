from amaranth.hdl import Module, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from golden.perf_counters import Counters

from ._check import check_config
from .signatures import perf_layout

__all__ = ["PerfCounters", "increment_layout", "counted"]


# counters of the index and output areas: always 0 on a baseline engine, which has neither
REUSE_ONLY = ("index_reads", "index_writes", "output_reads", "output_writes")


def counted(config):
    """The counters an engine of ``config`` counts; the rest stay 0."""
    return tuple(name for name in Counters.FIELDS if config.reuse or name not in REUSE_ONLY)


def increment_layout(config):
    """What each counter adds in a cycle: up to ``lanes`` MACs, up to ``scan_width`` inputs
    (scanned, changed, their index reads and writes), one of the rest."""
    per_input = ("inputs_scanned", "inputs_changed", "index_reads", "index_writes")
    return data.StructLayout({
        name: range(config.lanes + 1) if name == "macs"
        else range(config.scan_width + 1) if name in per_input and config.scan_width > 1
        else 1 for name in counted(config)})


class PerfCounters(wiring.Component):
    """The performance counters of every frame and every layer (golden twin:
    golden.Counters, counted by golden/engine.py and golden/cycle_model.py).

    Each cycle's increment is registered before it is added, so the control decode and the
    32-bit carry chain sit in different cycles (together they were an ECP5 critical path).
    The frame's totals and ``frames`` are published one cycle after its last operation, when
    its last increment has reached the adder; a layer's likewise after its last STORE.

    Members
    -------
    increments : ``In(increment_layout(config))``
    start : ``In(1)``
        Start of sequence: the counters restart.
    frame_end, layer_end : ``In(1)``
        The frame's (the layer's) last operation issues.
    perf, frames : ``Out(perf_layout())``, ``Out(32)``
        Counters of the last completed frame, and the frames completed.
    layer : ``In(layer_bits)``; layer_perf, layer_index, layers_done (``max_layers > 1``)
        Counters of the last completed layer (including the layer switch before it), its
        index, and the layers completed.
    """

    def __init__(self, config):
        self._config = check_config(config)
        members = {
            "increments": In(increment_layout(config)),
            "start": In(1),
            "frame_end": In(1),
            "layer_end": In(1),
            "perf": Out(perf_layout()),
            "frames": Out(32),
        }
        if config.max_layers > 1:
            members.update({"layer": In(config.layer_bits), "layer_perf": Out(perf_layout()),
                            "layer_index": Out(config.layer_bits), "layers_done": Out(32)})
        super().__init__(members)

    @property
    def config(self):
        return self._config

    def elaborate(self, platform):
        m = Module()
        publish = Signal()
        m.d.sync += publish.eq(self.frame_end & ~self.start)
        sets = [("", publish, self.perf)]
        if self._config.max_layers > 1:
            publish_layer = Signal()
            m.d.sync += publish_layer.eq(self.layer_end & ~self.start)
            sets.append(("layer_", publish_layer, self.layer_perf))
            with m.If(publish_layer):
                m.d.sync += [self.layers_done.eq(self.layers_done + 1),
                             self.layer_index.eq(self.layer)]
        for prefix, publish_set, perf in sets:
            for name in counted(self._config):
                running = Signal(32, name=f"{prefix}run_{name}")
                pending = Signal(32, name=f"{prefix}inc_{name}")
                total = Signal(32, name=f"{prefix}total_{name}")
                increment = getattr(self.increments, name)
                m.d.comb += total.eq(running + pending)
                with m.If(self.start):
                    m.d.sync += [running.eq(0), pending.eq(0)]
                with m.Elif(publish_set):
                    m.d.sync += [running.eq(0), pending.eq(increment),
                                 getattr(perf, name).eq(total)]
                with m.Else():
                    m.d.sync += [running.eq(total), pending.eq(increment)]
        with m.If(publish):
            m.d.sync += self.frames.eq(self.frames + 1)
        return m
