from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In

from ._check import check_config
from .signatures import BufferPortSignature

__all__ = ["BufferPort"]


class BufferPort(wiring.Component):
    """The host's port to the index and output areas between frames (``blocking`` engines;
    golden twin: the transfers of golden/blocking.py).

    It sits between the datapath and the I/O buffer: while ``host.select`` the host's address
    and writes drive both areas' ports, otherwise the scan unit's and the MAC pipeline's do.
    ``host.read_data`` is the word of the area read a cycle before.

    Members
    -------
    host : ``In(BufferPortSignature(config))``
    index_read, index_write, output_read, output_write : the datapath's side (flipped I/O
        buffer ports) and the I/O buffer's side (``io_`` prefix)
    """

    def __init__(self, config, buffer_ports):
        self._config = check_config(config)
        members = {"host": In(BufferPortSignature(config))}
        for name, member in buffer_ports.items():
            members[name] = member.flip()          # the datapath's side
            members[f"io_{name}"] = member         # the I/O buffer's side
        super().__init__(members)

    @property
    def config(self):
        return self._config

    def elaborate(self, platform):
        lanes = self._config.lanes
        m = Module()
        host = self.host
        for area in ("index", "output"):
            read, io_read = getattr(self, f"{area}_read"), getattr(self, f"io_{area}_read")
            write, io_write = getattr(self, f"{area}_write"), getattr(self, f"io_{area}_write")
            m.d.comb += [io_read.addr.eq(read.addr), io_read.en.eq(read.en),
                         read.data.eq(io_read.data),
                         io_write.addr.eq(write.addr), io_write.data.eq(write.data),
                         io_write.en.eq(write.en)]
        with m.If(host.select):
            m.d.comb += [
                self.io_index_read.addr.eq(host.addr),
                self.io_index_write.addr.eq(host.addr),
                self.io_index_write.data.eq(host.write_data),
                self.io_index_write.en.eq(Mux(host.write & ~host.area, (1 << lanes) - 1, 0)),
                self.io_output_read.addr.eq(host.addr),
                self.io_output_write.addr.eq(host.addr),
                self.io_output_write.data.eq(host.write_data),
                self.io_output_write.en.eq(host.write & host.area),
            ]
        read_area = Signal()
        m.d.sync += read_area.eq(host.area)
        m.d.comb += host.read_data.eq(Mux(read_area, self.io_output_read.data.as_value(),
                                          self.io_index_read.data.as_value()))
        return m
