"""Networks the engine runs whole: a chain of layers, every frame through every layer.

An :class:`EngineNetwork` is what the engine's layer table holds (golden.network_writes loads
it): per layer a :class:`LayerConfig` (with its reuse flag), the integer weights and biases. It
comes from an imported, quantized network (golden/network/lowering.py), from a built-in
network (golden/network/builtin.py), or from a ``.npz`` file written by
:meth:`EngineNetwork.save`.
"""

import dataclasses
import json
import pathlib
import zipfile

import numpy as np

from ..config import ConfigError, EngineConfig
from ..layer_config import LayerConfig, check_chain
from ..weight_buffer import weight_words

__all__ = ["EngineNetwork"]

# The scan width of a network's engine: the narrowest that turns 0.92 of the ideal speedup into
# speed on kaldi-mlp and speech-lstm (deja bench throughput: 4 gives 0.90 on kaldi-mlp, 8 gives
# 0.93, 16 gives 0.94 for twice the quantization tables).
NETWORK_SCAN_WIDTH = 8



@dataclasses.dataclass(frozen=True)
class EngineNetwork:
    """A chain of engine layers (FC, LSTM, conv): ``layers[l] = (LayerConfig, weights, bias)``.

    ``input_frac``: the input frames are real values times ``2**input_frac``, rounded (the
    scale the network was calibrated with); ``description`` says where it came from.
    """
    name: str
    layers: tuple
    input_frac: int = 0
    description: str = ""

    def __post_init__(self):
        layers = tuple(self.layers)
        if not layers:
            raise ConfigError("a network needs at least one layer")
        for k, (layer, _w, _b) in enumerate(layers):
            if k:
                check_chain(k, layers[k - 1][0], layer)
        object.__setattr__(self, "layers", layers)

    def scan_width(self, lanes):
        """The widest scan up to :data:`NETWORK_SCAN_WIDTH` an engine of ``lanes`` lanes runs
        this network with: a power of two dividing ``lanes`` and every LSTM layer's x_t."""
        shapes = [layer for layer, _, _ in self.layers]
        width = NETWORK_SCAN_WIDTH
        while width > 1 and (lanes % width or any(
                layer.x_inputs % width for layer in shapes if layer.kind == "lstm")):
            width //= 2
        return width

    @property
    def inputs(self):
        """Inputs per frame on the input stream (an LSTM layer 0's x_t)."""
        return self.layers[0][0].x_inputs

    @property
    def outputs(self):
        return self.layers[-1][0].results

    def engine_config(self, **params):
        """The smallest engine (``max_*``) that holds this network; ``params`` set the rest
        (lanes, widths, reuse). Its scan is the widest of :data:`NETWORK_SCAN_WIDTH` or less
        that the network allows (:meth:`scan_width`)."""
        shapes = [layer for layer, _, _ in self.layers]
        params.setdefault("scan_width", self.scan_width(params.get("lanes", 16)))
        params.setdefault("max_inputs", max(l.inputs for l in shapes))
        params.setdefault("max_outputs", max(l.outputs for l in shapes))
        # conv and LSTM engines have a layer table (two entries at least)
        params.setdefault("max_layers", max(len(shapes), 2 if any(
            l.kind in ("conv", "lstm") for l in shapes) else 1))
        params.setdefault("max_clusters", max(32, max(l.clusters for l in shapes)))
        params.setdefault("lstm", any(l.kind == "lstm" for l in shapes))
        params.setdefault("conv", any(l.kind == "conv" for l in shapes))
        params.setdefault("max_kernel_rows", max(l.kernel_rows for l in shapes))
        weight_bits = max(int(np.abs(w).max(initial=0)).bit_length() + 1 for _, w, _ in self.layers)
        params.setdefault("weight_width", max(8, weight_bits))
        # the static width rule: max_inputs inputs of the largest activation and weight
        worst = params["max_inputs"] * (1 << (params.get("act_width", 8) - 1)) * \
            (1 << (params["weight_width"] - 1))
        params.setdefault("acc_width", max(32, worst.bit_length() + 1))
        params.setdefault("weight_words", sum(len(weight_words(w, params.get("lanes", 16)))
                                              for _, w, _ in self.layers))
        return EngineConfig(**params)

    def save(self, path):
        """Write the network as ``.npz`` (layer configurations as JSON, arrays as int64)."""
        arrays = {}
        for k, (_, w, b) in enumerate(self.layers):
            arrays[f"weights{k}"] = np.asarray(w, dtype=np.int64)
            arrays[f"bias{k}"] = np.asarray(b, dtype=np.int64)
        meta = {"name": self.name, "input_frac": self.input_frac,
                "description": self.description,
                "layers": [layer.to_dict() for layer, _, _ in self.layers]}
        path = pathlib.Path(path)
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as f:
            np.savez(f, network=np.array(json.dumps(meta)), **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path):
        """The network of a ``.npz`` file written by :meth:`save`; anything else (a file from
        elsewhere, metadata of the wrong type, arrays that are not integers) is a ConfigError."""
        path = pathlib.Path(path)
        what = (f"network file {path} is not a deja network (.npz written by "
                f"EngineNetwork.save)")
        try:
            # opened here: np.load leaves its own file open when the archive is corrupt
            with open(path, "rb") as f, np.load(f, allow_pickle=False) as z:
                meta = json.loads(str(z["network"]))
                arrays = {k: z[k] for k in z.files}
        except FileNotFoundError:
            raise ConfigError(f"network file {path} does not exist") from None
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, RecursionError) as e:
            raise ConfigError(f"{what}: {e}") from None
        if not isinstance(meta, dict):
            raise ConfigError(f"{what}: its metadata is {json.dumps(meta)[:40]}, not a JSON "
                              f"object")
        fields = {"name": (str, "a string"), "description": (str, "a string"),
                  "input_frac": (int, "an integer"), "layers": (list, "a list")}
        for key, (kind, named) in fields.items():
            value = meta.get(key)
            if key in meta and (not isinstance(value, kind) or isinstance(value, bool)):
                raise ConfigError(f"{what}: its {key!r} must be {named}, not {value!r:.40}")
        layers = []
        for k, d in enumerate(meta.get("layers", [])):
            if not isinstance(d, dict):
                raise ConfigError(f"{what}: layer {k} is not a JSON object")
            try:
                layer = LayerConfig.from_dict(d)
            except (TypeError, ValueError) as e:
                raise ConfigError(f"network file {path}: layer {k}: {e}") from None
            w, b = arrays.get(f"weights{k}"), arrays.get(f"bias{k}")
            if w is None or b is None:
                raise ConfigError(f"network file {path}: layer {k} has no weights{k}/bias{k}")
            if not all(np.issubdtype(a.dtype, np.integer) for a in (w, b)):
                raise ConfigError(f"network file {path}: layer {k} weights {w.dtype} / bias "
                                  f"{b.dtype} must be integers")
            if w.shape != (layer.inputs, layer.outputs) or b.shape != (layer.outputs,):
                raise ConfigError(f"network file {path}: layer {k} weights {w.shape} / bias "
                                  f"{b.shape} do not match inputs = {layer.inputs}, "
                                  f"outputs = {layer.outputs}")
            layers.append((layer, w, b))
        return cls(meta.get("name", path.stem), tuple(layers), meta.get("input_frac", 0),
                   meta.get("description", ""))
