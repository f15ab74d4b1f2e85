"""Checks exported ONNX models and evaluates them (for export-python.test.ts).

Debian's python3-onnx (1.12) has no onnx.reference, so a small numpy interpreter of the ops the
exporter emits evaluates the graph, in float64. stdin: [{"path", "x"}]; stdout: one JSON object.
"""
import json
import math
import sys

try:
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper
except ImportError as e:
    sys.exit("onnx or numpy is missing (%s): apt-get install python3-onnx, or set BPS_SKIP_PYTHON=1 to skip" % e)

_erf = np.vectorize(math.erf)


def batch_norm(x, scale, b, mean, var, epsilon=1e-5, momentum=0.9):
    """Inference: normalise with the running statistics (features on axis 1)."""
    return (x - mean) / np.sqrt(var + epsilon) * scale + b


def layer_norm(x, scale, b, axis=-1, epsilon=1e-5):
    mu = x.mean(axis=axis, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axis, keepdims=True)
    return (x - mu) / np.sqrt(var + epsilon) * scale + b


OPS = {
    "Sub": lambda a, b: a - b,
    "Dropout": lambda a: a,  # the identity at inference (no ratio or training_mode input)
    "BatchNormalization": batch_norm,
    "LayerNormalization": layer_norm,
    "MatMul": lambda a, b: a @ b,
    "Add": lambda a, b: a + b,
    "Mul": lambda a, b: a * b,
    "Div": lambda a, b: a / b,
    "Relu": lambda a: np.maximum(a, 0),
    "LeakyRelu": lambda a, alpha=0.01: np.where(a >= 0, a, alpha * a),
    "Tanh": np.tanh,
    "Sigmoid": lambda a: 1 / (1 + np.exp(-a)),
    "Erf": _erf,
}


def evaluate(model, x):
    env = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    env[model.graph.input[0].name] = np.array(x, dtype=np.float64)
    for node in model.graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        env[node.output[0]] = OPS[node.op_type](*(env[i] for i in node.input), **attrs)
    return env[model.graph.output[0].name]


def dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def check(case):
    model = onnx.load(case["path"])
    onnx.checker.check_model(model, full_check=True)
    return {
        "y": evaluate(model, case["x"]).tolist(),
        "opset": [o.version for o in model.opset_import],
        "inputs": [[i.name, dims(i)] for i in model.graph.input],
        "outputs": [[o.name, dims(o)] for o in model.graph.output],
        "ops": sorted({n.op_type for n in model.graph.node}),
        "initializer_types": sorted({t.data_type for t in model.graph.initializer}),
    }


cases = json.load(sys.stdin)
print(json.dumps({"onnx": onnx.__version__, "python": sys.version.split()[0], "models": [check(c) for c in cases]}))
