// The PyTorch export's model.py: the exact nn.Module, plus a pure-Python safetensors reader and
// writer so nothing but torch is needed (train.py is train-py.ts's). A plain MLP is an nn.Sequential; one with
// the lab's blocks is built from blocks (pytorch-blocks.ts). load_model returns the model in eval
// mode (BatchNorm on its running statistics, no dropout), as the studio evaluates it; train.py
// switches it to train mode.
import type { ActivationName, ExportModel } from './model'
import { blocksModulePy, outputPy, py, scalingPy } from './pytorch-blocks'

const TORCH_ACTIVATION: Record<ActivationName, string> = {
  relu: 'nn.ReLU()',
  leakyRelu: 'nn.LeakyReLU(0.01)',
  tanh: 'nn.Tanh()',
  sigmoid: 'nn.Sigmoid()',
  gelu: "nn.GELU(approximate='none')",
  linear: 'nn.Identity()',
}

export function modelPy(model: ExportModel, runName: string): string {
  const layers = model.layers.flatMap((l, i) => [
    `            nn.Linear(${l.inFeatures}, ${l.outFeatures}),`,
    ...(i < model.layers.length - 1 ? [`            ${TORCH_ACTIVATION[l.activation]},`] : []),
  ])
  const scaling = scalingPy(model)
  const sequential = `class MLP(nn.Module):
    def __init__(self):
        super().__init__()
${scaling.init}        self.net = nn.Sequential(
${layers.join('\n')}
        )

    def forward(self, x):
${scaling.forward}        return ${outputPy(model, 'self.net(x)')}
`
  const module = model.blocks ? blocksModulePy(model, (l) => TORCH_ACTIVATION[l.activation]) : sequential
  return `"""An MLP exported from Backprop Studio: sizes ${model.sizes.join(' -> ')}, ${model.hiddenActivation} hidden layers,
linear output (logits). Needs only PyTorch: the safetensors reader and writer below follow the format's spec.
load_model gives the model in eval mode (call .train() to train it).

    from model import load_model
    model = load_model("weights.safetensors")
    logits = model(torch.zeros(1, ${model.sizes[0]}))  # one row per sample, columns as in FEATURES
"""
import json
import struct

import torch
from torch import nn

RUN_NAME = ${py(runName)}
SIZES = ${py(model.sizes)}
FEATURES = ${py(model.features)}
# Regression trained on the target standardised as (y - mean) / std: (mean, std), which forward maps
# its output back with (predictions are in the target's units); None when the target was not scaled.
TARGET_SCALING = ${model.outputScaling ? `(${py(model.outputScaling.mean)}, ${py(model.outputScaling.std)})` : 'None'}


${module}

_DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64}


def load_safetensors(path):
    """Read a .safetensors file into {name: tensor} (u64 LE header size, JSON header, LE data)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    header.pop("__metadata__", None)
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        raw = bytearray(data[8 + n + begin:8 + n + end])
        dtype = _DTYPES[info["dtype"]]
        flat = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(info["shape"]).clone()
    return tensors


def save_safetensors(tensors, path, metadata=None):
    """Write {name: tensor} as safetensors, float32 (int64 counters as I64), readable by Backprop Studio and the safetensors package."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        t = tensors[name].detach().cpu()
        whole = t.dtype == torch.int64
        values = t.flatten().tolist() if whole else t.to(torch.float32).flatten().tolist()
        chunk = struct.pack("<%d%s" % (len(values), "q" if whole else "f"), *values)
        header[name] = {"dtype": "I64" if whole else "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(chunk)]}
        chunks.append(chunk)
        offset += len(chunk)
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def load_model(path="weights.safetensors"):
    model = MLP()
    model.load_state_dict(load_safetensors(path))
    return model.eval()
`
}
