"""Synthesis reports of the engine: Yosys / nextpnr flows and a CACTI memory model.

- :mod:`synth.flows`: generic, asic (Liberty) and ecp5 flows, Yosys script templates and the
  parsers of the tools' JSON;
- :mod:`synth.memories`: CACTI figures of every buffer (recorded in ``cacti_recorded.json``);
- :mod:`synth.report`: the reuse engine beside the baseline engine, overhead in %.
"""
