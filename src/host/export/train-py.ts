// train.py of the PyTorch export: one script that trains the exported model in one process or
// under torchrun (DistributedDataParallel, gloo on the CPU, nccl on CUDA), and with --continue
// takes exactly the studio's next steps from the exported optimiser and sampler state
// (train-state.ts) with the studio's sampler, dropout masks and schedule (studio-py.ts).
import type { LossName } from '../setup'
import type { SessionSpecOut } from './model'
import { py } from './pytorch-blocks'
import { STUDIO_PY } from './studio-py'

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
      return `torch.optim.SGD(params, lr=lr, momentum=${py(o.momentum)}, nesterov=${py(o.nesterov && o.momentum > 0)}, weight_decay=${py(o.weightDecay)})`
    case 'adam':
      return `torch.optim.Adam(params, lr=lr, betas=(${py(o.beta1)}, ${py(o.beta2)}), eps=1e-8, weight_decay=${py(o.weightDecay)})`
    case 'adamw':
      return `torch.optim.AdamW(params, lr=lr, betas=(${py(o.beta1)}, ${py(o.beta2)}), eps=1e-8, weight_decay=${py(o.weightDecay)})`
    case 'rmsprop':
      return `torch.optim.RMSprop(params, lr=lr, alpha=${py(o.alpha)}, eps=1e-8, momentum=${py(o.momentum)}, weight_decay=${py(o.weightDecay)})`
  }
}

/** The studio's settings at the exported checkpoint (its live ones) and the step it was taken at. */
export function trainPy(spec: SessionSpecOut, lossName: LossName, startStep: number): string {
  const t = spec.train
  return `"""Train the exported model in PyTorch from weights.safetensors (step ${startStep} of the run), with the
run's loss (${lossName}), optimiser (${spec.optimizer.type}), schedule, L1/L2 penalties and clipping.

    python train.py data.csv                              # one process
    torchrun --nproc_per_node=4 train.py data.csv         # DistributedDataParallel, 4 ranks
    python train.py data.csv --continue --steps 100       # the studio's next 100 steps, exactly

data.csv: a header row naming the feature columns (model.FEATURES) and a "label" column (the class
index, or the target for regression); the export ships the run's training rows. Rank 0 alone logs
and writes the trained weights (--out) and checkpoints (--save-every).

Batches: --batch-size is the global batch. Under torchrun each of the N ranks takes batch-size / N
rows of it (DistributedSampler over one seeded permutation per epoch) and DDP averages the ranks'
gradients, so N ranks train as one process with the same --batch-size does, to float rounding. An
epoch's last partial batch is dropped so every rank steps together. BatchNorm normalises each
rank's rows (on CUDA, SyncBatchNorm normalises the global batch); dropout draws from torch's
generator, seeded with --seed + rank.

--continue picks up where the studio stood: optimizer.safetensors (moments, step counts) and
train_state.json (the step, so the schedule's position; the row order and its generator; the dropout
generator) with the studio's own sampler and dropout masks, re-implemented below. One process then
reproduces the studio's next steps (the same batches; losses equal to float32 rounding). Under
torchrun each rank takes every N-th row of the studio's batch.
"""
import argparse
import csv
import json
import math
import os

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from model import FEATURES, MLP, TARGET_SCALING, load_safetensors, save_safetensors

LOSS = ${py(lossName)}
BATCH_SIZE = ${t.batchSize}
LR = ${py(spec.optimizer.lr)}
EPOCHS = ${t.stop.maxEpochs ?? 10}
SEED = ${t.seed}
START_STEP = ${startStep}
SCHEDULE = ${JSON.stringify(t.schedule)}
L1 = ${py(t.l1)}
L2 = ${py(t.l2)}
CLIP_NORM = ${t.clipNorm === null ? 'None' : py(t.clipNorm)}


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
    if TARGET_SCALING is not None:
        # As the studio trains: on the standardised target (the model's output is in the target's units).
        mean, std = TARGET_SCALING
        out, y = (out - mean) / std, (y - mean) / std
    return ${LOSS_PY[lossName]}


# The studio reports losses in the target's units: the standardised loss times std squared.
LOSS_UNITS = 1.0 if TARGET_SCALING is None else TARGET_SCALING[1] ** 2


def make_optimizer(params, lr=LR):
    return ${optimizerPy(spec.optimizer)}


${STUDIO_PY}

def add_penalty(model):
    """The studio's L1/L2 penalty on the weight matrices (not biases, not norms): l1*sign(w) + 2*l2*w."""
    if not (L1 > 0 or L2 > 0):
        return
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear) and m.weight.grad is not None:
                m.weight.grad += L1 * torch.sign(m.weight) + 2 * L2 * m.weight


def load_optimizer_state(optimizer, model, path, device):
    """optimizer.safetensors holds torch.optim's per-parameter state as <parameter>.<key> tensors."""
    saved = load_safetensors(path)
    for name, p in model.named_parameters():
        state = {k[len(name) + 1:]: v.to(device) for k, v in saved.items() if k.rsplit(".", 1)[0] == name}
        if state:
            optimizer.state[p] = state


def setup(device_arg):
    """Rank and world from torchrun's environment (one process without it), the device, the process group."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device_arg == "auto":
        device_arg = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device("cuda", local) if device_arg == "cuda" and world > 1 else torch.device(device_arg)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=rank, world_size=world)
    return rank, world, device


def plain_batches(x, y, per_rank, rank, world, seed, epochs):
    sampler = DistributedSampler(TensorDataset(x, y), num_replicas=world, rank=rank, shuffle=True, seed=seed, drop_last=True)
    loader = DataLoader(sampler.dataset, batch_size=per_rank, sampler=sampler, drop_last=True)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for xb, yb in loader:
            yield xb, yb, 1.0


def studio_batches(x, y, sampler, rank, world, epochs):
    end = sampler.epoch + epochs
    while sampler.epoch < end:
        rows = sampler.next()
        mine = rows[rank::world]
        if not mine:
            raise SystemExit("--continue: a batch of %d rows cannot be shared by %d ranks" % (len(rows), world))
        # Each rank's mean, weighted by its share: DDP's average of the ranks is the batch's mean.
        yield x[mine], y[mine], len(mine) * world / len(rows)


def epochs_for(args, per_epoch, into_epoch):
    """--epochs, or as many as --steps takes when it is given."""
    return args.epochs if args.steps is None else -(-(args.steps + into_epoch) // per_epoch)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", help="training data: feature columns and a label column")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--steps", type=int, default=None, help="train this many steps, whatever --epochs says")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="the global batch, shared by the ranks")
    parser.add_argument("--lr", type=float, default=LR, help="the base rate; the run's schedule applies on top")
    parser.add_argument("--device", default="auto", help="auto (CUDA when there is one), cpu, cuda")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--continue", dest="resume", action="store_true", help="the studio's next steps, exactly")
    parser.add_argument("--state", default="train_state.json")
    parser.add_argument("--optimizer-state", default="optimizer.safetensors")
    parser.add_argument("--weights", default="weights.safetensors")
    parser.add_argument("--out", default="weights-trained.safetensors")
    parser.add_argument("--log-every", type=int, default=100)
    parser.add_argument("--save-every", type=int, default=0, help="also write checkpoint-step-<step>.safetensors every this many steps")
    args = parser.parse_args()

    rank, world, device = setup(args.device)
    x, y = read_csv(args.csv)
    torch.manual_seed(args.seed + rank)
    model = MLP()
    model.load_state_dict(load_safetensors(args.weights))
    batch_norm = any(isinstance(m, nn.BatchNorm1d) for m in model.modules())
    step = START_STEP
    if args.resume:
        with open(args.state) as f:
            state = json.load(f)
        sampler = StudioSampler(state["sampler"])
        if len(sampler.order) != len(x):
            raise SystemExit("--continue: %s has %d rows, the studio trained on %d" % (args.csv, len(x), len(sampler.order)))
        if args.batch_size != sampler.batch_size:
            raise SystemExit("--continue follows the studio's batches of %d rows; leave --batch-size out" % sampler.batch_size)
        if state.get("dropoutRng"):
            rng = StudioRng(state["dropoutRng"])
            for block in getattr(model, "blocks", []):
                if block.drop is not None:
                    block.drop = StudioDropout(block.drop.p, rng)
        step = state["step"]
        epochs = epochs_for(args, sampler.steps_per_epoch, sampler.step_in_epoch)
        total = args.steps if args.steps is not None else epochs * sampler.steps_per_epoch - sampler.step_in_epoch
        batches = studio_batches(x, y, sampler, rank, world, epochs)
    else:
        # A batch bigger than the data is all of it, as in the studio.
        batch = min(args.batch_size, len(x))
        if batch % world:
            raise SystemExit("a batch of %d rows does not split over %d ranks; choose --batch-size" % (batch, world))
        per_rank = batch // world
        if batch_norm and per_rank < 2:
            raise SystemExit("BatchNorm needs at least 2 rows per rank; raise --batch-size")
        per_epoch = len(x) // world // per_rank
        if per_epoch == 0:
            raise SystemExit("%s: %d rows are too few for %d ranks" % (args.csv, len(x), world))
        epochs = epochs_for(args, per_epoch, 0)
        total = args.steps if args.steps is not None else epochs * per_epoch
        batches = plain_batches(x, y, per_rank, rank, world, args.seed, epochs)
    model.to(device).train()
    if world > 1 and device.type == "cuda":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    optimizer = make_optimizer(model.parameters(), args.lr)
    if args.resume:
        load_optimizer_state(optimizer, model, args.optimizer_state, device)
    net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) if world > 1 else model

    for done, (xb, yb, share) in enumerate(batches, 1):
        if done > total:
            break
        for group in optimizer.param_groups:
            group["lr"] = scheduled_lr(args.lr, step)
        optimizer.zero_grad()
        loss = loss_fn(net(xb.to(device)), yb.to(device))
        (loss if share == 1 else loss * share).backward()
        add_penalty(model)
        if CLIP_NORM is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP_NORM)
        optimizer.step()
        step += 1
        if done % args.log_every == 0 or done == total:
            shown = loss.detach() * share
            if world > 1:
                dist.all_reduce(shown)
                shown /= world
            if rank == 0:
                print("step %d loss %.9g" % (step, shown.item() * LOSS_UNITS), flush=True)
        if args.save_every and done % args.save_every == 0 and rank == 0:
            save_safetensors(model.state_dict(), "checkpoint-step-%d.safetensors" % step, {"format": "pt", "step": step})
    if rank == 0:
        save_safetensors(model.state_dict(), args.out, {"format": "pt", "step": step})
        print("saved %s" % args.out)
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
`
}
