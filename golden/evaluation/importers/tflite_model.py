"""TFLite importer (the pure-Python ``tflite`` flatbuffer package) into golden.network.graph.Graph.

Supported: CONV_2D, DEPTHWISE_CONV_2D (SAME/VALID padding, strides, fused ReLU), ADD (fused
ReLU), RELU, PAD, MAX_POOL_2D (VALID), RESHAPE, CONCATENATION, LOGISTIC, FULLY_CONNECTED, and
DEQUANTIZE of float16 constants (folded). TFLite tensors are NHWC; deja's are (C, H, W), so
kernels are transposed and a RESHAPE of a feature map reads it in NHWC order.
"""

import numpy as np

from ...network.graph import Graph, Node, UnsupportedOperator

__all__ = ["import_tflite"]


def _builtin_names():
    import tflite
    return {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}


def _same_padding(size, kernel, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def import_tflite(path):
    import tflite
    try:
        with open(path, "rb") as f:
            buf = f.read()
        model = tflite.Model.GetRootAsModel(buf, 0)
        sg = model.Subgraphs(0)
    except Exception as e:          # flatbuffers raises assorted errors on bad input
        raise UnsupportedOperator(f"{path} is not a readable TFLite model: {e}") from None
    names = _builtin_names()
    ttypes = {v: k for k, v in vars(tflite.TensorType).items() if not k.startswith("_")}
    consts = {}

    def tensor_name(i):
        return sg.Tensors(i).Name().decode()

    def constant(i):
        if i in consts:
            return consts[i]
        t = sg.Tensors(i)
        data = model.Buffers(t.Buffer()).DataAsNumpy()
        if isinstance(data, int) or data is None or len(data) == 0:
            return None
        dtype = {"FLOAT32": np.float32, "FLOAT16": np.float16, "INT32": np.int32,
                 "INT64": np.int64, "INT8": np.int8, "UINT8": np.uint8}[ttypes[t.Type()]]
        value = np.frombuffer(data.tobytes(), dtype=dtype).reshape(t.ShapeAsNumpy())
        consts[i] = value.astype(np.float64) if dtype in (np.float32, np.float16) else value
        return consts[i]

    in_index = sg.Inputs(0)
    in_shape = tuple(sg.Tensors(in_index).ShapeAsNumpy().tolist())
    if len(in_shape) != 4:
        raise UnsupportedOperator(f"{path}: deja imports image models with an NHWC input, "
                                  f"not {in_shape}")
    shapes = {in_index: (in_shape[3], in_shape[1], in_shape[2])}     # CHW, batch dropped
    layout = {in_index: "chw"}
    nodes = []

    def shape_of(i):
        return tuple(int(v) for v in sg.Tensors(i).ShapeAsNumpy().tolist())

    def fused(options_type, op):
        table = getattr(tflite, options_type)()
        table.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        return table

    for k in range(sg.OperatorsLength()):
        op = sg.Operators(k)
        code = model.OperatorCodes(op.OpcodeIndex())
        name = names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "CUSTOM")
        ins = [int(i) for i in op.InputsAsNumpy()] if op.InputsLength() else []
        out = int(op.Outputs(0))
        label = tensor_name(out)
        if name == "DEQUANTIZE":
            value = constant(ins[0])
            if value is None:
                raise UnsupportedOperator(f"operator DEQUANTIZE of a non-constant (node {label!r}) "
                                          f"is not supported")
            consts[out] = value.astype(np.float64)
            continue
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            opts = fused("Conv2DOptions" if name == "CONV_2D" else "DepthwiseConv2DOptions", op)
            w = constant(ins[1])
            b = constant(ins[2]) if len(ins) > 2 and ins[2] >= 0 else None
            c_in, h, wd = shapes[ins[0]]
            if name == "CONV_2D":
                weight = w.transpose(0, 3, 1, 2)                  # (O, kh, kw, I) -> (O, I, kh, kw)
                groups = 1
            else:
                weight = w[0].transpose(2, 0, 1)[:, None]    # (1, kh, kw, C) -> (C, 1, kh, kw)
                groups = c_in
            kh, kw = weight.shape[2:]
            sh, sw = opts.StrideH(), opts.StrideW()
            if opts.Padding() == tflite.Padding.SAME:
                (pt, pb), (pl, pr) = _same_padding(h, kh, sh), _same_padding(wd, kw, sw)
            else:
                pt = pb = pl = pr = 0
            relu = opts.FusedActivationFunction() == tflite.ActivationFunctionType.RELU
            if opts.FusedActivationFunction() not in (tflite.ActivationFunctionType.NONE,
                                                      tflite.ActivationFunctionType.RELU):
                raise UnsupportedOperator(f"operator {name} with fused activation "
                                          f"{opts.FusedActivationFunction()} (node {label!r}) "
                                          f"is not supported")
            nodes.append(Node(label, "conv", [tensor_name(ins[0])], label, {
                "weight": weight, "bias": b if b is not None else np.zeros(weight.shape[0]),
                "stride": (sh, sw), "padding": (pt, pl, pb, pr), "groups": groups, "relu": relu}))
            o = shape_of(out)
            shapes[out] = (o[3], o[1], o[2])
            layout[out] = "chw"
        elif name == "ADD":
            opts = fused("AddOptions", op)
            nodes.append(Node(label, "add", [tensor_name(i) for i in ins], label))
            if opts.FusedActivationFunction() == tflite.ActivationFunctionType.RELU:
                nodes[-1].output = label + "/pre_relu"
                nodes.append(Node(label + "/relu", "relu", [label + "/pre_relu"], label))
            shapes[out], layout[out] = shapes[ins[0]], layout[ins[0]]
        elif name in ("RELU", "LOGISTIC"):
            nodes.append(Node(label, "relu" if name == "RELU" else "sigmoid",
                              [tensor_name(ins[0])], label))
            shapes[out], layout[out] = shapes[ins[0]], layout[ins[0]]
        elif name == "PAD":
            p = constant(ins[1]).astype(int)
            if layout[ins[0]] == "chw":
                widths = [tuple(p[3]), tuple(p[1]), tuple(p[2])]
            else:
                widths = [tuple(r) for r in p[1:]]
            nodes.append(Node(label, "pad", [tensor_name(ins[0])], label, {"widths": widths}))
            o = shape_of(out)
            shapes[out] = (o[3], o[1], o[2]) if layout[ins[0]] == "chw" else o[1:]
            layout[out] = layout[ins[0]]
        elif name == "MAX_POOL_2D":
            opts = fused("Pool2DOptions", op)
            _, h, wd = shapes[ins[0]]
            needs_pad = (sum(_same_padding(h, opts.FilterHeight(), opts.StrideH()))
                         + sum(_same_padding(wd, opts.FilterWidth(), opts.StrideW())))
            if opts.Padding() != tflite.Padding.VALID and needs_pad:
                raise UnsupportedOperator(f"operator MAX_POOL_2D that pads (node {label!r}) "
                                          f"is not supported")
            nodes.append(Node(label, "max_pool", [tensor_name(ins[0])], label, {
                "kernel": (opts.FilterHeight(), opts.FilterWidth()),
                "stride": (opts.StrideH(), opts.StrideW())}))
            o = shape_of(out)
            shapes[out], layout[out] = (o[3], o[1], o[2]), "chw"
        elif name == "RESHAPE":
            o = shape_of(out)
            nodes.append(Node(label, "reshape", [tensor_name(ins[0])], label,
                              {"shape": o[1:], "from_chw": layout[ins[0]] == "chw"}))
            shapes[out], layout[out] = o[1:], "plain"
        elif name == "CONCATENATION":
            opts = fused("ConcatenationOptions", op)
            axis = opts.Axis()
            if any(layout[i] == "chw" for i in ins):
                raise UnsupportedOperator(f"operator CONCATENATION of feature maps "
                                          f"(node {label!r}) is not supported")
            nodes.append(Node(label, "concat", [tensor_name(i) for i in ins], label,
                              {"axis": (axis if axis >= 0 else axis + len(shape_of(out))) - 1}))
            shapes[out], layout[out] = shape_of(out)[1:], "plain"
        elif name == "FULLY_CONNECTED":
            w = constant(ins[1])
            b = constant(ins[2]) if len(ins) > 2 and ins[2] >= 0 else np.zeros(w.shape[0])
            nodes.append(Node(label, "fc", [tensor_name(ins[0])], label,
                              {"weight": w.T, "bias": b}))
            shapes[out], layout[out] = shape_of(out)[1:], "plain"
        else:
            raise UnsupportedOperator(f"operator {name} (node {label!r}) is not supported; "
                                      f"deja imports CONV_2D, DEPTHWISE_CONV_2D, ADD, RELU, PAD, "
                                      f"MAX_POOL_2D, RESHAPE, CONCATENATION, LOGISTIC, "
                                      f"FULLY_CONNECTED, DEQUANTIZE")
    outputs = [tensor_name(sg.Outputs(k)) for k in range(sg.OutputsLength())]
    return Graph(nodes, tensor_name(in_index), shapes[in_index], outputs)
