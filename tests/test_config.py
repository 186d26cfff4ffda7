"""Every configuration error names the parameter, the value and what is allowed."""

import dataclasses

import numpy as np
import pytest

from golden import DEFAULT, ConfigError, EngineConfig, LayerConfig, check_weights, config_writes


@pytest.mark.parametrize("kwargs, message", [
    (dict(lanes=0), "lanes = 0 is out of range: allowed 1..64"),
    (dict(lanes=65), "lanes = 65 is out of range: allowed 1..64"),
    (dict(lanes=2.0), "lanes must be an integer, not 2.0"),
    (dict(lanes=True), "lanes must be an integer, not True"),
    (dict(act_width=1), "act_width = 1 is out of range: allowed 2..12 (the quantizer is a table "
                        "of 2**act_width entries per layer)"),
    (dict(weight_width=19), "weight_width = 19 is out of range: allowed 2..18"),
    (dict(acc_width=16), "acc_width = 16 is out of range: allowed 17..48 "
                         "(at least act_width + weight_width + 1 so one product fits)"),
    (dict(max_clusters=1), "max_clusters = 1 is out of range: allowed 2..64"),
    (dict(act_width=4, max_clusters=32),
     "max_clusters = 32 is out of range: allowed 2..16 (at most 2**act_width distinct centroids)"),
    (dict(max_inputs=0), "max_inputs = 0 is out of range: allowed 1..65536"),
    (dict(max_outputs=70000), "max_outputs = 70000 is out of range: allowed 1..65536"),
    (dict(lanes=8, scan_width=16), "scan_width = 16 is out of range: allowed 1..8 (lanes)"),
    (dict(lanes=12, scan_width=8),
     "scan_width = 8 must be a power of two that divides lanes = 12 (a bank word is scanned in "
     "beats)"),
    (dict(lanes=12, scan_width=3),
     "scan_width = 3 must be a power of two that divides lanes = 12 (a bank word is scanned in "
     "beats)"),
    (dict(reuse="yes"), "reuse must be true or false, not 'yes'"),
    (dict(acc_width=20, max_inputs=512),
     "acc_width = 20 is too narrow for max_inputs = 512: worst case 8388608 needs acc_width >= 25"),
])
def test_engine_errors(kwargs, message):
    with pytest.raises(ConfigError) as e:
        EngineConfig(**kwargs)
    assert str(e.value) == message


def test_engine_json_round_trip():
    config = EngineConfig(lanes=4, max_clusters=16, reuse=False)
    assert EngineConfig.from_json(config.to_json()) == config
    assert EngineConfig.from_json(DEFAULT.to_json()) == DEFAULT


def test_engine_json_errors():
    with pytest.raises(ConfigError, match="unknown engine parameter 'lane': allowed acc_width"):
        EngineConfig.from_json('{"lane": 4}')
    with pytest.raises(ConfigError, match="configuration is not valid JSON"):
        EngineConfig.from_json("{lanes: 4")
    with pytest.raises(ConfigError, match="configuration JSON must be an object"):
        EngineConfig.from_json("[4]")


def test_engine_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT.lanes = 3


@pytest.mark.parametrize("kwargs, message", [
    (dict(inputs=0), "inputs = 0 is out of range: allowed 1..1048576"),
    (dict(outputs=-1), "outputs = -1 is out of range: allowed 1..1048576"),
    (dict(centroids=(0,)), "clusters = 1 is out of range: allowed 2..max_clusters"),
    (dict(centroids=(0, 5, 5)),
     "centroids must be strictly increasing: centroids[1] = 5 >= centroids[2] = 5"),
    (dict(activation="tanh"),
     "activation = 'tanh' is not supported: allowed none, relu, magnitude"),
    (dict(shift=48), "shift = 48 is out of range: allowed 0..47"),
])
def test_layer_errors(kwargs, message):
    args = dict(inputs=4, outputs=3, centroids=(-8, 0, 8))
    args.update(kwargs)
    with pytest.raises(ConfigError) as e:
        LayerConfig(**args)
    assert str(e.value) == message


def test_layer_json_round_trip():
    layer = LayerConfig(5, 7, (-3, 0, 2, 9), activation="none", shift=3)
    assert LayerConfig.from_json(layer.to_json()) == layer


@pytest.mark.parametrize("kwargs, message", [
    (dict(inputs=600), "inputs = 600 is out of range: allowed 1..512 (engine max_inputs)"),
    (dict(outputs=513), "outputs = 513 is out of range: allowed 1..512 (engine max_outputs)"),
    (dict(centroids=tuple(range(33))),
     "clusters = 33 is out of range: allowed 2..32 (engine max_clusters)"),
    (dict(centroids=(-129, 0)),
     "centroids must be act_width = 8 bit values: -129 is outside -128..127"),
    (dict(centroids=(0, 128)),
     "centroids must be act_width = 8 bit values: 128 is outside -128..127"),
    (dict(shift=32), "shift = 32 is out of range: allowed 0..31"),
])
def test_layer_does_not_fit_engine(kwargs, message):
    args = dict(inputs=4, outputs=3, centroids=(-8, 0, 8))
    args.update(kwargs)
    with pytest.raises(ConfigError) as e:
        DEFAULT.check_layer(LayerConfig(**args))
    assert str(e.value) == message


def test_weight_errors():
    layer = LayerConfig(3, 2, (-8, 0, 8))
    w, b = np.zeros((3, 2), dtype=int), np.zeros(2, dtype=int)
    cases = [
        ((np.zeros((2, 3), dtype=int), b),
         "weights have shape (2, 3): expected (inputs, outputs) = (3, 2)"),
        ((w, np.zeros(3, dtype=int)), "bias has shape (3,): expected (outputs,) = (2,)"),
        ((w.astype(float), b), "weights must be integers, not float64"),
        ((w + 128, b),
         "weights must be weight_width = 8 bit values: found 128..128, allowed -128..127"),
        ((w, np.array([0, 2 ** 31 - 1])), "output 1 can reach 2147483647, which does not fit "
                                          "acc_width = 32 (max 2147483647)"),
    ]
    for (weights, bias), message in cases[:-1]:
        with pytest.raises(ConfigError) as e:
            check_weights(DEFAULT, layer, weights, bias)
        assert str(e.value) == message
    # the exact width rule: |b| + 128 * sum|W| must fit; at the limit it is accepted
    check_weights(DEFAULT, layer, w, np.array([0, 2 ** 31 - 1]))
    with pytest.raises(ConfigError) as e:
        check_weights(DEFAULT, layer, w + np.array([[0, 1], [0, 0], [0, 0]]),
                      np.array([0, 2 ** 31 - 128]))
    assert str(e.value) == ("output 1 can reach 2147483648, which does not fit acc_width = 32 "
                            "(max 2147483647)")


def test_config_writes_cover_every_word():
    """The host programme writes every register, table entry, weight word and padded bias."""
    config = EngineConfig(lanes=4, max_inputs=16, max_outputs=16)
    layer = LayerConfig(5, 6, (-8, 0, 8, 20))
    rng = np.random.default_rng(0)
    writes = config_writes(config, layer, rng.integers(-5, 5, (5, 6)), rng.integers(-5, 5, 6))
    regions = [addr >> config.cfg_offset_width for addr, _ in writes]
    blocks = 2
    assert regions.count(0) == 6                      # layer registers, reuse flag included
    assert regions.count(1) == 4                      # centroids
    assert regions.count(2) == 256                    # quantization table: one index per x
    assert regions.count(3) == blocks * 5             # one word per (block, input)
    assert regions.count(4) == blocks * 4             # biases including padding lanes
    assert len(set(addr for addr, _ in writes)) == len(writes)
    assert all(0 <= data < 2 ** config.cfg_data_width for _, data in writes)


def test_network_writes_place_layers_one_after_another():
    """Each layer's registers sit in its own table entry; weights, biases and index areas of
    layer 1 start where layer 0's end; the global registers name the layer count and the
    output frame's blocks."""
    from golden import network_writes
    from golden.programme import Region, Register
    config = EngineConfig(lanes=4, max_inputs=16, max_outputs=16, max_layers=3)
    rng = np.random.default_rng(1)
    shapes = [(5, 6), (6, 3)]
    layers = [(LayerConfig(n, m, (-8, 0, 8)), rng.integers(-5, 5, (n, m)), rng.integers(-5, 5, m))
              for n, m in shapes]
    writes = dict(network_writes(config, layers))
    shift = config.cfg_offset_width
    def reg(l, r):
        return writes[(Region.REGISTER << shift) | (l << Register.BITS) | r]

    assert [reg(l, Register.INPUTS) for l in (0, 1)] == [5, 6]
    assert [reg(l, Register.WEIGHT_BASE) for l in (0, 1)] == [0, 2 * 5]
    assert [reg(l, Register.BLOCK_BASE) for l in (0, 1)] == [0, 2]
    assert [reg(l, Register.INDEX_BASE) for l in (0, 1)] == [0, 5]
    assert reg(0, Register.LAYERS) == 2 and reg(0, Register.STREAM_BLOCKS) == 1
    weights = sorted(a & ((1 << shift) - 1) for a in writes if a >> shift == Region.WEIGHT)
    assert weights == list(range(2 * 5 + 1 * 6))


def test_network_errors_name_the_layer():
    from golden import network_writes
    config = EngineConfig(lanes=4, max_inputs=16, max_outputs=16, max_layers=2)
    def z(*shape):
        return np.zeros(shape, dtype=np.int64)

    a = (LayerConfig(5, 6, (0, 1)), z(5, 6), z(6))
    b = (LayerConfig(7, 2, (0, 1)), z(7, 2), z(2))
    with pytest.raises(ConfigError) as e:
        network_writes(config, [a, b])
    assert str(e.value) == "layer 1: inputs = 7 must equal the outputs of layer 0 (6)"
    with pytest.raises(ConfigError) as e:
        network_writes(config, [a, (LayerConfig(6, 2, (0, 1)), z(6, 3), z(2))])
    assert str(e.value).startswith("layer 1: weights have shape (6, 3)")
    with pytest.raises(ConfigError) as e:
        network_writes(config, [a, a, a])
    assert str(e.value) == "layers = 3 is out of range: allowed 1..2 (engine max_layers)"


def test_total_memory_is_bounded():
    """The weight buffer grows as max_layers x max_inputs x max_outputs: the engine's memories
    together are bounded, with the limit and the size in the message."""
    from golden.config import MAX_MEMORY_BITS
    from golden.memories import engine_buffers
    with pytest.raises(ConfigError) as e:
        EngineConfig(max_inputs=65536, max_outputs=65536, max_layers=64, lanes=1)
    assert str(e.value) == (
        "the engine's memories need 2,199,316,496,384 bits (2,097,431.7 Mibit, of which weights "
        "2,097,152.0 Mibit): at most 67,108,864 bits (64 Mibit) allowed on chip; lower "
        "max_layers, max_inputs or max_outputs, or give weight_words")
    # the limit itself is allowed, a word more is not (a weight word: 16 lanes x 8 bits)
    rest = sum(b.bits for b in engine_buffers(EngineConfig(weight_words=1))) - 128
    words = (MAX_MEMORY_BITS - rest) // 128
    assert sum(b.bits for b in engine_buffers(EngineConfig(weight_words=words))) \
        <= MAX_MEMORY_BITS
    with pytest.raises(ConfigError, match="allowed on chip"):
        EngineConfig(weight_words=words + 1)


@pytest.mark.parametrize("name", ["kaldi-mlp", "speech-lstm"])
def test_builtin_network_engines_are_far_below_the_memory_bound(name):
    from golden.blocking import network_engine
    from golden.config import MAX_MEMORY_BITS
    from golden.memories import engine_buffers
    from golden.network.builtin import load_network
    for lanes in (4, 16, 64):
        network, _ = load_network(name, 2, lanes=lanes)
        engine = network_engine(network, lanes=lanes)
        assert sum(b.bits for b in engine_buffers(engine)) < MAX_MEMORY_BITS / 8
