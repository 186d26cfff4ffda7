"""Generic ONNX importer for feed-forward graphs of the operators deja has layers for.

Supported: Conv (1-D/2-D, groups), Gemm, MatMul (+ Add of a constant), Relu, Sigmoid, Tanh,
Add, MaxPool, Pad (constant), Reshape, Flatten, Squeeze, Unsqueeze, Identity, Concat. Anything
else is one clear error naming the operator and the node. Batch dimension 1 is dropped.
"""

import numpy as np

from ...network.graph import Graph, Node, UnsupportedOperator

__all__ = ["import_onnx"]


def import_onnx(path):
    import onnx
    from onnx import numpy_helper
    try:
        model = onnx.load(str(path))
    except Exception as e:        # onnx raises a variety of decode errors
        raise UnsupportedOperator(f"{path} is not a readable ONNX model: {e}") from None
    g = model.graph
    consts = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in g.initializer}
    for n in g.node:
        if n.op_type == "Constant":
            consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t).astype(np.float64)
    inputs = [i for i in g.input if i.name not in consts]
    if len(inputs) != 1:
        raise UnsupportedOperator(f"{path}: deja imports models with one input, this one has "
                                  f"{len(inputs)} ({', '.join(i.name for i in inputs)})")
    dims = [d.dim_value or 1 for d in inputs[0].type.tensor_type.shape.dim]
    shape = tuple(dims[1:]) if len(dims) > 1 else tuple(dims)
    nodes = []
    alias = {}

    def name(x):
        return alias.get(x, x)

    def constant(node, k, what):
        """Input ``k`` of ``node`` (a weight or a bias), which must be a constant."""
        value = consts.get(node.input[k], consts.get(name(node.input[k])))
        if value is None:
            raise UnsupportedOperator(f"operator {node.op_type} whose {what} {node.input[k]!r} is "
                                      f"computed, not a constant (node "
                                      f"{node.name or node.output[0]!r}), is not supported")
        return value

    def attribute(node, attrs, key):
        if key not in attrs:
            raise UnsupportedOperator(f"operator {node.op_type} without the attribute {key} (node "
                                      f"{node.name or node.output[0]!r}) is not valid ONNX")
        return attrs[key]

    for n in g.node:
        op = n.op_type
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
        ins = [name(i) for i in n.input if i]
        out = n.output[0]
        label = n.name or out
        if op == "Constant":
            continue
        if op in ("Identity", "Dropout"):
            alias[out] = ins[0]
        elif op == "Conv":
            w = constant(n, 1, "weight")
            b = constant(n, 2, "bias") if len(n.input) > 2 and n.input[2] else np.zeros(w.shape[0])
            pads = attrs.get("pads", [0] * (2 * (w.ndim - 2)))
            if attrs.get("dilations") and any(d != 1 for d in attrs["dilations"]):
                raise UnsupportedOperator(f"operator Conv with dilation (node {label!r}) "
                                          f"is not supported")
            nodes.append(Node(label, "conv", ins[:1], out, {
                "weight": w, "bias": b, "stride": tuple(attrs.get("strides", [1] * (w.ndim - 2))),
                "padding": tuple(pads), "groups": attrs.get("group", 1)}))
        elif op == "Gemm":
            w = constant(n, 1, "weight")
            if attrs.get("transB", 0):
                w = w.T
            b = constant(n, 2, "bias") if len(n.input) > 2 else np.zeros(w.shape[1])
            nodes.append(Node(label, "fc", ins[:1], out, {"weight": w * attrs.get("alpha", 1.0),
                                                          "bias": b * attrs.get("beta", 1.0)}))
        elif op == "MatMul" and n.input[1] in consts:
            w = consts[n.input[1]]
            nodes.append(Node(label, "fc", ins[:1], out,
                              {"weight": w, "bias": np.zeros(w.shape[1])}))
        elif op == "Add" and len(n.input) == 2 and n.input[1] in consts and nodes \
                and nodes[-1].op == "fc" and nodes[-1].output == ins[0]:
            nodes[-1].params["bias"] = nodes[-1].params["bias"] + consts[n.input[1]].reshape(-1)
            alias[out] = ins[0]
        elif op == "Add":
            nodes.append(Node(label, "add", ins, out))
        elif op in ("Relu", "Sigmoid", "Tanh"):
            nodes.append(Node(label, op.lower(), ins, out))
        elif op == "MaxPool":
            if any(attrs.get("pads", [0])):
                raise UnsupportedOperator(f"operator MaxPool with padding (node {label!r}) "
                                          f"is not supported")
            nodes.append(Node(label, "max_pool", ins, out, {
                "kernel": tuple(attribute(n, attrs, "kernel_shape")),
                "stride": tuple(attrs.get("strides", attrs["kernel_shape"]))}))
        elif op in ("Reshape", "Flatten", "Squeeze", "Unsqueeze"):
            nodes.append(Node(label, "reshape", ins[:1], out, {"shape": None, "onnx": op}))
        elif op == "Concat":
            nodes.append(Node(label, "concat", ins, out, {"axis": attribute(n, attrs, "axis") - 1}))
        else:
            raise UnsupportedOperator(f"operator {op} (node {label!r}) is not supported; "
                                      f"deja imports Conv, Gemm, MatMul, Add, Relu, Sigmoid, Tanh, "
                                      f"MaxPool, Reshape, Flatten, Squeeze, Unsqueeze, Concat, "
                                      f"Identity")
    outputs = [name(o.name) for o in g.output]
    graph = Graph(nodes, inputs[0].name, shape, outputs)
    _infer_reshapes(graph, model)
    return graph


def _infer_reshapes(graph, model):
    """Give every reshape its batch-free target shape by running the graph once on zeros."""
    import onnx
    shapes = {}
    model = onnx.shape_inference.infer_shapes(model)
    value_info = list(model.graph.value_info) + list(model.graph.output)
    for v in value_info:
        dims = [d.dim_value for d in v.type.tensor_type.shape.dim]
        if dims and all(dims):
            shapes[v.name] = tuple(dims[1:])
    for node in graph.nodes:
        if node.op == "reshape":
            node.params["shape"] = shapes.get(node.output, (-1,))
