// The PyTorch export: model.py (the exact nn.Module, plus a pure-Python safetensors reader and
// writer so nothing but torch is needed), and train.py, which continues training from the
// exported weights with the run's loss and optimiser. A plain MLP is an nn.Sequential; one with
// the lab's blocks is built from blocks (pytorch-blocks.ts). load_model returns the model in eval
// mode (BatchNorm on its running statistics, no dropout), as the studio evaluates it; train.py
// switches it to train mode.
import type { LossName } from '../setup'
import type { ActivationName, ExportModel, SessionSpecOut } from './model'
import { blocksModulePy, py } from './pytorch-blocks'

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
  const sequential = `class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
${layers.join('\n')}
        )

    def forward(self, x):
        return self.net(x)
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

/** The run's loss in PyTorch ('auto' is resolved by the caller, as the host resolves it). */
const LOSS_PY: Record<LossName, string> = {
  softmaxCrossEntropy: 'nn.functional.cross_entropy(out, y.long())',
  mse: 'nn.functional.mse_loss(out.squeeze(1), y)',
  huber: 'nn.functional.huber_loss(out.squeeze(1), y, delta=1.0)',
  bceWithLogits: 'nn.functional.binary_cross_entropy_with_logits(out.squeeze(1), y)',
  // Labels are classes 0/1; the hinge wants -1/+1, as in the studio.
  hinge: 'torch.clamp(1 - out.squeeze(1) * (2 * y - 1), min=0).mean()',
}

function optimizerPy(o: SessionSpecOut['optimizer']): string {
  switch (o.type) {
    case 'sgd':
      // PyTorch refuses nesterov without momentum; the studio treats it as plain SGD.
      return `torch.optim.SGD(params, lr=${py(o.lr)}, momentum=${py(o.momentum)}, nesterov=${py(o.nesterov && o.momentum > 0)}, weight_decay=${py(o.weightDecay)})`
    case 'adam':
      return `torch.optim.Adam(params, lr=${py(o.lr)}, betas=(${py(o.beta1)}, ${py(o.beta2)}), eps=1e-8, weight_decay=${py(o.weightDecay)})`
    case 'adamw':
      return `torch.optim.AdamW(params, lr=${py(o.lr)}, betas=(${py(o.beta1)}, ${py(o.beta2)}), eps=1e-8, weight_decay=${py(o.weightDecay)})`
    case 'rmsprop':
      return `torch.optim.RMSprop(params, lr=${py(o.lr)}, alpha=${py(o.alpha)}, eps=1e-8, momentum=${py(o.momentum)}, weight_decay=${py(o.weightDecay)})`
  }
}

export function trainPy(spec: SessionSpecOut, lossName: LossName): string {
  return `"""Continue training the exported model in PyTorch, from weights.safetensors, with the run's loss
(${lossName}) and optimiser (${spec.optimizer.type}).

    python train.py data.csv --steps 1000

data.csv: a header row naming the feature columns (model.FEATURES) and a "label" column (the class
index, or the target for regression). The trained weights go to weights-trained.safetensors.

To scale out, this loop runs under torchrun (torchrun --nproc_per_node=4 train.py data.csv) once the
model is wrapped in torch.nn.parallel.DistributedDataParallel after torch.distributed.init_process_group()
and each process reads its own shard of the rows; a model this small trains fine in one process.
"""
import argparse
import csv

import torch
from torch import nn

from model import FEATURES, MLP, load_safetensors, save_safetensors

BATCH_SIZE = ${spec.train.batchSize}
SEED = ${spec.train.seed}


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    need = FEATURES + ["label"]
    missing = [c for c in need if not rows or c not in rows[0]]
    if missing:
        raise SystemExit("%s: missing columns %s (expected %s)" % (path, missing, need))
    x = torch.tensor([[float(r[c]) for c in FEATURES] for r in rows], dtype=torch.float32)
    y = torch.tensor([float(r["label"]) for r in rows], dtype=torch.float32)
    return x, y


def loss_fn(out, y):
    return ${LOSS_PY[lossName]}


def make_optimizer(params):
    return ${optimizerPy(spec.optimizer)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", help="training data: feature columns and a label column")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--weights", default="weights.safetensors")
    parser.add_argument("--out", default="weights-trained.safetensors")
    args = parser.parse_args()

    torch.manual_seed(SEED)
    model = MLP()
    model.load_state_dict(load_safetensors(args.weights))
    x, y = read_csv(args.csv)
    optimizer = make_optimizer(model.parameters())
    model.train()
    # BatchNorm cannot train on one row: a last batch of one is skipped, as the studio drops it.
    batch_norm = any(isinstance(m, nn.BatchNorm1d) for m in model.modules())
    if batch_norm and len(x) < 2:
        raise SystemExit("%s: BatchNorm needs at least 2 rows to train on" % args.csv)
    step = 0
    while step < args.steps:
        order = torch.randperm(len(x))
        for i in range(0, len(x), args.batch_size):
            rows = order[i:i + args.batch_size]
            if batch_norm and len(rows) < 2:
                continue
            optimizer.zero_grad()
            loss = loss_fn(model(x[rows]), y[rows])
            loss.backward()
            optimizer.step()
            step += 1
            if step % 100 == 0 or step == args.steps:
                print("step %d loss %.6f" % (step, loss.item()))
            if step >= args.steps:
                break
    save_safetensors(model.state_dict(), args.out, {"format": "pt"})
    print("saved %s" % args.out)


if __name__ == "__main__":
    main()
`
}
