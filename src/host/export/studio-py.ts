// The part of train.py that re-implements the studio where PyTorch has no equivalent, so that
// `train.py --continue` takes exactly the studio's next steps: its generator (engine/rng.ts,
// xoshiro128**), its row sampler (engine/data/batching.ts: a Fisher–Yates shuffle of the previous
// epoch's order at each epoch start), its dropout masks (engine/nn/dropout.ts: one draw per element,
// row-major, dropped when below p) and its learning-rate schedule (engine/optim/schedule.ts).

/** Python source, placed in train.py after its imports. */
export const STUDIO_PY = `_U32 = 0xFFFFFFFF


def _rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & _U32


class StudioRng:
    """Backprop Studio's generator (xoshiro128**): uniform doubles from 32-bit words, as engine/rng.ts draws them."""

    def __init__(self, state):
        self.s = [int(w) & _U32 for w in state["s"]]

    def next_u32(self):
        s0, s1, s2, s3 = self.s
        result = (_rotl((s1 * 5) & _U32, 7) * 9) & _U32
        t = (s1 << 9) & _U32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        self.s = [s0, s1, s2, _rotl(s3, 11)]
        return result

    def next(self):
        return self.next_u32() / 4294967296

    def int(self, n):
        return math.floor(self.next() * n)


class StudioSampler:
    """The studio's batch order: each epoch shuffles the previous epoch's order in place (Fisher-Yates
    from the end) and hands it out in batches; train_state.json says where it stands."""

    def __init__(self, state):
        self.order = [int(i) for i in state["order"]]
        self.rng = StudioRng(state["rng"])
        self.epoch = state["epoch"]
        self.step_in_epoch = state["stepInEpoch"]
        self.batch_size = state["batchSize"]
        self.steps_per_epoch = state["stepsPerEpoch"]

    def next(self):
        if self.step_in_epoch == 0:
            o = self.order
            for i in range(len(o) - 1, 0, -1):
                j = self.rng.int(i + 1)
                o[i], o[j] = o[j], o[i]
        start = self.step_in_epoch * self.batch_size
        rows = self.order[start:start + self.batch_size]
        self.step_in_epoch += 1
        if self.step_in_epoch == self.steps_per_epoch:
            self.step_in_epoch = 0
            self.epoch += 1
        return rows


class StudioDropout(nn.Module):
    """nn.Dropout with the studio's masks: one draw per element in row-major order, dropped below p."""

    def __init__(self, p, rng):
        super().__init__()
        self.p = p
        self.rng = rng

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        draw = self.rng.next
        keep = [0.0 if draw() < self.p else 1.0 for _ in range(x.numel())]
        mask = torch.tensor(keep, dtype=x.dtype, device=x.device).reshape(x.shape)
        return x * (mask * (1 / (1 - self.p)))


def scheduled_lr(base, t):
    """The rate for the update after t completed steps: linear warmup, then constant, step or cosine."""
    s = SCHEDULE
    w = s.get("warmupSteps", 0)
    if t < w:
        return base * (t + 1) / w
    u = t - w
    if s["type"] == "step":
        return base * s["gamma"] ** (u // s["stepSize"])
    if s["type"] == "cosine":
        if u >= s["periodSteps"]:
            return s["minLr"]
        return s["minLr"] + (base - s["minLr"]) * (1 + math.cos(math.pi * u / s["periodSteps"])) / 2
    return base
`
