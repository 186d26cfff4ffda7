"""The cocotb top level around the generated engine: a stimulus player and a capture unit in
Verilog.

Python stays out of the per-cycle path: the testbench (sim/tb_engine.py) writes the whole
configuration programme, the input beats and the idle/backpressure bit patterns to hex files,
pulses ``load`` (the top level reads them with ``$readmemh``) and ``go``; from then on the player
runs in the simulator, exactly as sim/harness.py drives the Amaranth simulation. The clock is
generated in the top level (Verilator builds with ``--timing``), and the testbench's inputs
(``rst``, ``load``, ``go``, the lengths) are registered there, so they act one cycle later:

- ``go`` -> one configuration write per cycle (``cfg_mem``), then one ``start`` strobe;
- cycle ``t = 0`` is the first cycle after the strobe (the time base of golden.cycle_model);
- input beat ``k`` is presented at the first cycle whose valid-pattern bit is 1 once beat
  ``k - 1`` has been accepted, and held until accepted (stream rules);
- ``o_stream.ready`` in cycle ``t`` is bit ``t`` of the ready pattern (1 past its end).

Accepted output beats are captured with their cycle stamp into a circular buffer and counted
(``beats``, ``out_frames``); each new value of the engine's ``perf`` counters is captured into a
small circular buffer, and so is each new value of ``layer_perf`` with its ``layer_index``
(engines with a layer table: ``layer_count`` values). The testbench wakes once per output frame
and reads both. The same top level runs one layer or a network of up to ``max_layers`` layers
(golden.network_writes): the programme memory holds the largest network the engine's buffers can
take, and the pre-activation tap captures the output-area writes of every reuse layer of a frame,
in order.
"""

from golden.config import ceil_log2
from hw.verilog import TOP as ENGINE_TOP

__all__ = ["tb_top_verilog", "TOP", "PERIOD_NS", "IN_DEPTH", "PATTERN_WORDS", "PERF_DEPTH",
           "cfg_depth", "capture_depth", "tap_depth", "layer_depth", "STIMULUS_FILES"]

TOP = "deja_tb_top"
PERIOD_NS = 10              # clock period (the top level generates its clock)
IN_DEPTH = 1 << 20          # input beats per sequence
PATTERN_WORDS = 1 << 19     # 32 pattern bits per word: 16M cycles of explicit bubbles
PERF_DEPTH = 8              # the engine runs at most two frames ahead of its output stream
STIMULUS_FILES = {"cfg": "stim_cfg.hex", "in": "stim_in.hex",
                  "valid": "stim_valid.hex", "ready": "stim_ready.hex"}


def cfg_depth(config):
    """Longest configuration programme (golden.network_writes) for ``config``: per layer at
    most 16 registers, max_clusters centroids and a quantization table of 2**act_width
    entries, and at most the whole weight buffer, one bias per lane of every block and two
    window-table entries per block."""
    per_layer = 16 + config.max_clusters + (1 << config.act_width)
    return (config.max_layers * per_layer + config.weight_depth
            + config.block_depth * (config.lanes + 2))


def capture_depth(config):
    """Output beats held by the capture buffer (the engine runs at most two frames ahead)."""
    return 1 << max(6, ceil_log2(2 * config.max_blocks))


def layer_depth(config):
    """Per-layer counter values held (layer-table engines): the layers of the frames written
    before the testbench reads one."""
    return 1 << max(3, ceil_log2(4 * config.max_layers))


def tap_depth(config):
    """Output-area writes held by the pre-activation tap: at most ``block_depth`` per frame
    (every layer's blocks), and the frames written before the testbench reads one."""
    return 1 << max(ceil_log2(capture_depth(config)) + 1, ceil_log2(4 * config.block_depth))


def has_preactivation_tap(engine_text):
    """True when the engine's I/O buffer has an output area (reuse engines): the tap reads its
    write port, ``engine.io_buffer.output_write__{en,data}``."""
    start = engine_text.find(".io_buffer (")
    header = engine_text[start:engine_text.find(";", start)] if start >= 0 else ""
    return "output_write__en" in header and "output_write__data" in header


def tb_top_verilog(config, engine=ENGINE_TOP, tap=False):
    """Verilog of the top level; ``tap`` also captures every output-area write (the
    pre-activation outputs z) through a hierarchical reference into the engine."""
    aw, dw = config.cfg_addr_width, config.cfg_data_width
    iw = config.scan_width * config.act_width + 1
    ow = config.lanes * config.act_width + 1
    pw = 32 * 10
    cfg_n = cfg_depth(config)
    cap = capture_depth(config)
    cap_bits = ceil_log2(cap)
    files = STIMULUS_FILES
    zw = config.lanes * config.acc_width
    zcap_bits = ceil_log2(tap_depth(config))
    pattern_bits = ceil_log2(PATTERN_WORDS)
    tap_text = f"""
  // pre-activation tap: every output-area write, in order (hierarchical reference)
  reg [{zw - 1}:0] cap_z [0:{tap_depth(config) - 1}];
  always @(posedge clk) begin
    if (rst_q | go_q) z_count <= 0;
    else if (run & engine.io_buffer.output_write__en) begin
      cap_z[z_count[{zcap_bits - 1}:0]] <= engine.io_buffer.output_write__data;
      z_count <= z_count + 1;
    end
  end
""" if tap else "\n  always @(posedge clk) z_count <= 0;\n"
    lb = config.layer_bits
    layer_ports, layer_wires = "", ""
    layer_text = "\n  always @(posedge clk) layer_count <= 0;\n"
    if config.max_layers > 1:
        layer_ports = (",\n    .layer_perf(layer_perf), .layer_index(layer_index), "
                       ".layers_done(layers_done)")
        layer_wires = f"""
  wire [{pw - 1}:0] layer_perf;
  wire [{lb - 1}:0] layer_index;
  wire [31:0] layers_done;"""
        layer_text = f"""
  // per-layer counters: each new value of layer_perf, with its layer index
  reg [31:0] layers_q = 0;
  reg [{pw + lb - 1}:0] layer_mem [0:{layer_depth(config) - 1}];
  always @(posedge clk) begin
    if (rst_q | go_q) layer_count <= 0;
    else if (run & (layers_done != layers_q)) begin
      layer_mem[layer_count[{ceil_log2(layer_depth(config)) - 1}:0]] <= {{layer_index, layer_perf}};
      layer_count <= layer_count + 1;
    end
    layers_q <= layers_done;
  end
"""
    return f"""\
// Generated by deja (sim/tb_top.py): stimulus player and capture unit around {engine}.
`default_nettype none
module {TOP} (
  input  wire rst,
  input  wire load,                 // read the stimulus hex files
  input  wire go,                   // play the configuration, strobe start, run the streams
  input  wire [31:0] n_cfg,
  input  wire [31:0] n_in,
  input  wire [31:0] n_valid_words,
  input  wire [31:0] n_ready_words,
  output reg  [31:0] t,
  output reg  [31:0] sent,
  output reg  [31:0] beats,
  output reg  [31:0] out_frames,
  output reg  [31:0] perf_frames,
  output reg  [31:0] z_count,
  output reg  [31:0] layer_count,
  output wire [31:0] frames,
  output wire framing_error
);
  // the clock runs inside the simulator: a clock driven from cocotb costs two VPI writes
  // and two evaluations of every input-dependent net per cycle (a quarter of the run time)
  reg clk = 1'b0;
  always #{PERIOD_NS // 2} clk = ~clk;

  // the inputs from cocotb are registered: Verilator evaluates every net that depends on a
  // top-level input at each time step, twice per cycle; registered, they depend on state only
  reg rst_q = 1'b0, load_q = 1'b0, go_q = 1'b0;
  reg [31:0] n_cfg_q = 0, n_in_q = 0, n_valid_words_q = 0, n_ready_words_q = 0;
  always @(posedge clk) begin
    rst_q <= rst; load_q <= load; go_q <= go;
    n_cfg_q <= n_cfg; n_in_q <= n_in; \
n_valid_words_q <= n_valid_words; n_ready_words_q <= n_ready_words;
  end

  localparam IDLE = 2'd0, CFG = 2'd1, START = 2'd2, RUN = 2'd3;
  reg [1:0] state = IDLE;
  reg [31:0] cfg_index = 0;
  reg [{aw + dw - 1}:0] cfg_mem [0:{cfg_n - 1}];
  reg [{iw - 1}:0] in_mem [0:{IN_DEPTH - 1}];
  reg [31:0] valid_mem [0:{PATTERN_WORDS - 1}];
  reg [31:0] ready_mem [0:{PATTERN_WORDS - 1}];
  reg [{ow - 1}:0] cap_data [0:{cap - 1}];
  reg [31:0] cap_t [0:{cap - 1}];
  reg [{pw - 1}:0] perf_mem [0:{PERF_DEPTH - 1}];

  always @(posedge clk) if (load_q) begin
    $readmemh("{files['cfg']}", cfg_mem);
    $readmemh("{files['in']}", in_mem);
    $readmemh("{files['valid']}", valid_mem);
    $readmemh("{files['ready']}", ready_mem);
  end

  wire run = state == RUN;
  wire [31:0] word = t >> 5;
  wire [31:0] valid_word = valid_mem[word[{pattern_bits - 1}:0]];
  wire [31:0] ready_word = ready_mem[word[{pattern_bits - 1}:0]];
  wire valid_bit = word < n_valid_words_q ? valid_word[t[4:0]] : 1'b1;
  wire ready_bit = word < n_ready_words_q ? ready_word[t[4:0]] : 1'b1;
  reg pending = 0;
  wire present = pending | (sent < n_in_q & valid_bit);

  // unused memory words are X in four-state simulators: only loaded words reach the engine
  wire cfg_en = state == CFG && cfg_index < n_cfg_q;
  wire [{aw + dw - 1}:0] cfg_word = cfg_mem[cfg_index];
  wire i_ready, o_valid;
  wire [{ow - 1}:0] o_payload;
  wire [{pw - 1}:0] perf;{layer_wires}
  reg [31:0] frames_q = 0;

  {engine} engine (
    .clk(clk), .rst(rst_q),
    .cfg__addr(cfg_en ? cfg_word[{aw + dw - 1}:{dw}] : {aw}'d0),
    .cfg__data(cfg_en ? cfg_word[{dw - 1}:0] : {dw}'d0),
    .cfg__en(cfg_en),
    .start(state == START),
    .i_stream__payload(run & present ? in_mem[sent[{ceil_log2(IN_DEPTH) - 1}:0]] : {iw}'d0),
    .i_stream__valid(run & present), .i_stream__ready(i_ready),
    .o_stream__payload(o_payload), .o_stream__valid(o_valid), .o_stream__ready(run & ready_bit),
    .perf(perf), .frames(frames), .framing_error(framing_error){layer_ports}
  );

  always @(posedge clk) begin
    if (rst_q) begin
      state <= IDLE;
      t <= 0; sent <= 0; pending <= 0; beats <= 0; out_frames <= 0; perf_frames <= 0;
      cfg_index <= 0;
    end else if (go_q) begin
      state <= CFG;
      t <= 0; sent <= 0; pending <= 0; beats <= 0; out_frames <= 0; perf_frames <= 0;
      cfg_index <= 0;
    end else begin
      case (state)
        CFG: if (cfg_index + 1 >= n_cfg_q) state <= START; else cfg_index <= cfg_index + 1;
        START: state <= RUN;
        RUN: begin
          t <= t + 1;
          if (present & i_ready) begin
            sent <= sent + 1;
            pending <= 0;
          end else
            pending <= present;
          if (o_valid & ready_bit) begin
            cap_data[beats[{cap_bits - 1}:0]] <= o_payload;
            cap_t[beats[{cap_bits - 1}:0]] <= t;
            beats <= beats + 1;
            if (o_payload[{ow - 1}]) out_frames <= out_frames + 1;
          end
          if (frames != frames_q) begin
            perf_mem[perf_frames[{ceil_log2(PERF_DEPTH) - 1}:0]] <= perf;
            perf_frames <= perf_frames + 1;
          end
        end
        default: ;
      endcase
    end
    frames_q <= frames;
  end
{tap_text}{layer_text}
`ifdef DEJA_DUMP
  reg [8 * 1024 - 1:0] dump_path;
  initial if ($value$plusargs("deja_dumpfile=%s", dump_path)) begin
    $dumpfile(dump_path);
    $dumpvars(0, {TOP});
  end
`endif
endmodule
`default_nettype wire
"""
