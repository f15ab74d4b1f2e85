#!/usr/bin/python3
"""Golden values from PyTorch for the engine's tests.

Run with Debian's python3-torch: `npm run golden` (or /usr/bin/python3 scripts/gen_golden.py).
Writes src/engine/testdata/golden.json, which is committed: the tests need no Python.
Every case is computed in float64; upstream gradients are random so every output element matters.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(1234)
D = torch.float64
OUT = os.path.join(os.path.dirname(__file__), '..', 'src', 'engine', 'testdata', 'golden.json')


def t(shape, lo=-2.0, hi=2.0):
    return (torch.rand(shape, dtype=D) * (hi - lo) + lo).requires_grad_(True)


def enc(x):
    x = x.detach()
    return {'shape': list(x.shape), 'data': [float(v) for v in x.reshape(-1).tolist()]}


cases = []


def case(name, op, fn, inputs, args=None, extra=None):
    out = fn(*inputs)
    up = torch.randn(out.shape, dtype=D)
    out.backward(up)
    c = {
        'name': name,
        'op': op,
        'args': args or {},
        'inputs': [enc(x) for x in inputs],
        'out': enc(out),
        'upstream': enc(up),
        'grads': [enc(x.grad) if x.grad is not None else None for x in inputs],
    }
    if extra:
        c.update(extra)
    cases.append(c)


# Binary elementwise ops with NumPy broadcasting.
for op, fn in [('add', torch.add), ('sub', torch.sub), ('mul', torch.mul)]:
    case(f'{op} same shape', op, fn, [t([3, 4]), t([3, 4])])
    case(f'{op} row broadcast', op, fn, [t([3, 4]), t([4])])
    case(f'{op} both broadcast', op, fn, [t([2, 1, 3]), t([4, 1])])
    case(f'{op} scalar tensor', op, fn, [t([2, 3]), t([])])
case('div same shape', 'div', torch.div, [t([3, 4]), t([3, 4], 0.5, 2.0)])
case('div broadcast', 'div', torch.div, [t([2, 3]), t([2, 1], 0.5, 2.0)])
case('pow tensor exponent', 'pow', torch.pow, [t([3, 4], 0.2, 2.0), t([3, 4])])
case('pow broadcast exponent', 'pow', torch.pow, [t([2, 3], 0.2, 2.0), t([3])])
for p in [2.0, 3.0, -1.0, 0.5]:
    case(f'pow scalar {p}', 'pow_scalar', lambda x, p=p: torch.pow(x, p), [t([3, 4], 0.2, 2.0)], {'exponent': p})

# Unary ops.
case('neg', 'neg', torch.neg, [t([3, 4])])
case('exp', 'exp', torch.exp, [t([3, 4])])
case('log', 'log', torch.log, [t([3, 4], 0.1, 3.0)])
case('sqrt', 'sqrt', torch.sqrt, [t([3, 4], 0.1, 3.0)])
case('abs', 'abs', torch.abs, [t([3, 4])])
case('relu', 'relu', torch.relu, [t([3, 4])])
for a in [0.01, 0.2]:
    case(f'leakyRelu {a}', 'leakyRelu', lambda x, a=a: F.leaky_relu(x, a), [t([3, 4])], {'alpha': a})
case('tanh', 'tanh', torch.tanh, [t([3, 4], -3, 3)])
case('sigmoid', 'sigmoid', torch.sigmoid, [t([3, 4], -6, 6)])
case('gelu', 'gelu', F.gelu, [t([4, 5], -4, 4)])

# Matmul, including odd shapes and batch broadcasting.
for (m, k, n) in [(1, 1, 1), (3, 5, 2), (7, 13, 11), (2, 1, 3)]:
    case(f'matmul {m}x{k}x{n}', 'matmul', torch.matmul, [t([m, k]), t([k, n])])
case('matmul batched', 'matmul', torch.matmul, [t([2, 3, 4]), t([2, 4, 5])])
case('matmul batch broadcast', 'matmul', torch.matmul, [t([2, 3, 4]), t([4, 2])])

# Data movement.
case('transpose 2d', 'transpose', lambda x: x.transpose(-2, -1), [t([3, 5])])
case('transpose 3d', 'transpose', lambda x: x.transpose(-2, -1), [t([2, 3, 4])])
case('reshape', 'reshape', lambda x: x.reshape(4, 6), [t([2, 3, 4])], {'shape': [4, 6]})

# Reductions over all elements, one axis, several axes, with and without keepDims.
for op, fn in [('sum', torch.sum), ('mean', torch.mean)]:
    case(f'{op} all', op, fn, [t([3, 4])])
    for axis in [0, 1, -1]:
        for keep in [False, True]:
            case(f'{op} axis {axis} keep {keep}', op, lambda x, a=axis, k=keep, f=fn: f(x, a, keepdim=k), [t([3, 4, 2])], {'axis': axis, 'keepDims': keep})
    case(f'{op} axes [0,2]', op, lambda x, f=fn: f(x, (0, 2)), [t([3, 4, 2])], {'axis': [0, 2], 'keepDims': False})
case('max all', 'max', torch.max, [t([3, 4])])
for axis in [0, 1, -1]:
    for keep in [False, True]:
        case(f'max axis {axis} keep {keep}', 'max', lambda x, a=axis, k=keep: torch.max(x, a, keepdim=k).values, [t([3, 4, 2])], {'axis': axis, 'keepDims': keep})

# Softmax family.
for axis in [0, -1]:
    case(f'softmax axis {axis}', 'softmax', lambda x, a=axis: torch.softmax(x, a), [t([4, 5], -3, 3)], {'axis': axis})
    case(f'logSoftmax axis {axis}', 'logSoftmax', lambda x, a=axis: torch.log_softmax(x, a), [t([4, 5], -3, 3)], {'axis': axis})
case('logSoftmax large logits', 'logSoftmax', lambda x: torch.log_softmax(x, -1), [t([3, 4], 50, 90)], {'axis': -1})

# Losses (scalar outputs; the upstream gradient is a random scalar).
pred, target = t([6, 3]), torch.randn([6, 3], dtype=D)
case('mseLoss', 'mseLoss', lambda p: F.mse_loss(p, target), [pred], extra={'target': enc(target)})
labels = torch.tensor([0, 2, 1, 2, 0], dtype=torch.long)
case('softmaxCrossEntropy', 'softmaxCrossEntropy', lambda z: F.cross_entropy(z, labels), [t([5, 3], -3, 3)], extra={'labels': labels.tolist()})
yb = torch.tensor([[0.0], [1.0], [1.0], [0.0], [1.0], [0.5]], dtype=D)
case('bceWithLogits', 'bceWithLogits', lambda z: F.binary_cross_entropy_with_logits(z, yb), [t([6, 1], -4, 4)], extra={'target': enc(yb)})
yh = torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0, -1.0, -1.0, 1.0], dtype=D)
case('hingeLoss', 'hingeLoss', lambda s: torch.relu(1 - yh * s).mean(), [t([8], -2, 2)], extra={'target': enc(yh)})
# Residuals on both sides of delta, so the quadratic and the linear piece are both checked.
yr = torch.tensor([[0.3, -1.2], [2.5, 0.0], [-0.7, 1.9], [1.1, -2.4]], dtype=D)
for delta in [1.0, 0.5]:
    case(f'huberLoss delta {delta}', 'huberLoss', lambda p, d=delta: F.huber_loss(p, yr, delta=d), [t([4, 2], -3, 3)], {'delta': delta}, extra={'target': enc(yr)})

# Layers that cure gradient pathologies (issue #13). Appended after every other op case so the
# cases above keep their random values. Weights γ are drawn in [0.5, 1.5] so the scale matters.
for shape in ([4, 5], [2, 3, 4]):
    f = shape[-1]
    case(f'layerNorm {shape}', 'layerNorm', lambda x, w, b: F.layer_norm(x, (x.shape[-1],), w, b, 1e-5), [t(shape), t([f], 0.5, 1.5), t([f])], {'eps': 1e-5})
case('batchNorm train', 'batchNorm', lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True, eps=1e-5), [t([6, 4]), t([4], 0.5, 1.5), t([4])], {'eps': 1e-5})
# PyTorch's dropout RNG is not ours: the mask is given, and the case checks the scaling law.
for p in [0.3, 0.5]:
    keep = (torch.rand([4, 5], dtype=D) >= p).to(D)
    case(f'dropout p={p} given mask', 'dropout', lambda x, p=p, m=keep: x * m / (1 - p), [t([4, 5])], {'p': p}, extra={'mask': enc(keep)})
case('dropout eval', 'dropoutEval', lambda x: F.dropout(x, 0.3, training=False), [t([4, 5])], {'p': 0.3})
# A residual block: x is used twice, so its gradient is the upstream one plus the branch's.
case('residual x + relu(x·W1)·W2', 'residual', lambda x, w1, w2: x + torch.relu(x @ w1) @ w2, [t([4, 3]), t([3, 5]), t([5, 3])])

# A whole MLP: 3-5-4-2, tanh then relu, cross-entropy. Weights are exported as [in, out].
torch.manual_seed(7)
net = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)).double()
x = torch.randn(6, 3, dtype=D)
y = torch.tensor([0, 1, 1, 0, 1, 0])
logits = net(x)
loss = F.cross_entropy(logits, y)
loss.backward()
linears = [m for m in net if isinstance(m, torch.nn.Linear)]
mlp = {
    'sizes': [3, 5, 4, 2],
    'activations': ['tanh', 'relu', 'linear'],
    'x': enc(x),
    'labels': y.tolist(),
    'weights': [enc(m.weight.t()) for m in linears],
    'biases': [enc(m.bias) for m in linears],
    'logits': enc(logits),
    'loss': float(loss),
    'weightGrads': [enc(m.weight.grad.t()) for m in linears],
    'biasGrads': [enc(m.bias.grad) for m in linears],
}

# Optimisers: 5 steps on L(p) = sum(c·p²) + sum(d·p), whose gradient depends on p.
torch.manual_seed(11)
p0 = torch.randn(4, 3, dtype=D)
cc = torch.rand(4, 3, dtype=D) + 0.5
dd = torch.randn(4, 3, dtype=D)
optim_cases = []
configs = [
    ('SGD', {'lr': 0.1}, lambda p: torch.optim.SGD([p], lr=0.1)),
    ('SGD', {'lr': 0.1, 'momentum': 0.9}, lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9)),
    ('SGD', {'lr': 0.1, 'momentum': 0.9, 'nesterov': True, 'weightDecay': 0.01}, lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ('SGD', {'lr': 0.05, 'momentum': 0.8, 'dampening': 0.1}, lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.8, dampening=0.1)),
    ('Adam', {'lr': 0.01}, lambda p: torch.optim.Adam([p], lr=0.01)),
    ('Adam', {'lr': 0.01, 'weightDecay': 0.1, 'beta1': 0.8, 'beta2': 0.99}, lambda p: torch.optim.Adam([p], lr=0.01, weight_decay=0.1, betas=(0.8, 0.99))),
    ('AdamW', {'lr': 0.01, 'weightDecay': 0.1}, lambda p: torch.optim.AdamW([p], lr=0.01, weight_decay=0.1)),
    ('RMSprop', {'lr': 0.01}, lambda p: torch.optim.RMSprop([p], lr=0.01)),
    ('RMSprop', {'lr': 0.01, 'momentum': 0.9, 'centered': True, 'weightDecay': 0.01}, lambda p: torch.optim.RMSprop([p], lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
]
for name, opts, make in configs:
    p = p0.clone().requires_grad_(True)
    opt = make(p)
    traj = []
    for _ in range(5):
        opt.zero_grad()
        (cc * p * p + dd * p).sum().backward()
        opt.step()
        traj.append(enc(p))
    optim_cases.append({'optimizer': name, 'options': opts, 'trajectory': traj})

# Gradient clipping by global norm.
g1, g2 = torch.randn(3, 4, dtype=D), torch.randn(5, dtype=D)
q1, q2 = torch.zeros(3, 4, dtype=D, requires_grad=True), torch.zeros(5, dtype=D, requires_grad=True)
q1.grad, q2.grad = g1.clone(), g2.clone()
total = torch.nn.utils.clip_grad_norm_([q1, q2], max_norm=0.5)
clip = {'maxNorm': 0.5, 'grads': [enc(g1), enc(g2)], 'total': float(total), 'clipped': [enc(q1.grad), enc(q2.grad)]}

# BatchNorm1d as a module: three training steps on batches of different sizes and statistics
# (outputs, gradients, running statistics after each), then eval mode on the running statistics.
torch.manual_seed(13)
bn = torch.nn.BatchNorm1d(4).double()
with torch.no_grad():
    bn.weight.copy_(torch.rand(4, dtype=D) + 0.5)
    bn.bias.copy_(torch.randn(4, dtype=D))
bn_w0, bn_b0 = enc(bn.weight), enc(bn.bias)


def bn_step(n, scale, shift):
    xb = (torch.randn(n, 4, dtype=D) * scale + shift).requires_grad_(True)
    bn.zero_grad()
    out = bn(xb)
    up = torch.randn(out.shape, dtype=D)
    out.backward(up)
    return {
        'x': enc(xb), 'out': enc(out), 'upstream': enc(up),
        'grads': [enc(xb.grad), enc(bn.weight.grad), enc(bn.bias.grad)],
        'runningMean': enc(bn.running_mean), 'runningVar': enc(bn.running_var),
        'numBatchesTracked': int(bn.num_batches_tracked),
    }


bn_train = [bn_step(n, s, m) for n, s, m in [(6, 1.0, 0.0), (5, 2.0, 1.0), (8, 0.5, -2.0)]]
bn.eval()
bn_eval = bn_step(3, 1.5, 0.5)
layers = {
    'batchNorm1d': {
        'features': 4, 'momentum': 0.1, 'eps': 1e-5, 'weight': bn_w0, 'bias': bn_b0,
        'train': bn_train, 'eval': bn_eval, 'stateDictKeys': list(bn.state_dict().keys()),
    },
    'layerNorm': {'stateDictKeys': list(torch.nn.LayerNorm(5).state_dict().keys())},
    'dropout': {'stateDictKeys': list(torch.nn.Dropout(0.5).state_dict().keys())},
}

# Op cases added later go here, after every other draw, so the values above stay as they were.
# sign's inputs stay 0.05 away from 0, where it jumps (finite differences would see the jump);
# sign(0) = 0 is tested in ops/sign.test.ts.
case('sign', 'sign', torch.sign, [(t([3, 4], 0.05, 2.0).detach() * torch.tensor([1.0, -1.0, -1.0, 1.0], dtype=D)).requires_grad_(True)])
# The fused normalisations: without weight and bias, groups longer than a GPU workgroup (256),
# a mean far from 0 (the variance must not cancel), and BatchNorm's eval mode on given running
# statistics (which need no gradient, as PyTorch's buffers).
case('batchNorm train, no affine', 'batchNormPlain', lambda x: F.batch_norm(x, None, None, training=True, eps=1e-5), [t([5, 3])], {'eps': 1e-5})
case('batchNorm train [300, 3]', 'batchNorm', lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True, eps=1e-5), [t([300, 3]), t([3], 0.5, 1.5), t([3])], {'eps': 1e-5})
case('batchNorm train, mean 50', 'batchNorm', lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True, eps=1e-5), [t([16, 5], 48.0, 52.0), t([5], 0.5, 1.5), t([5])], {'eps': 1e-5})
case('layerNorm, no affine', 'layerNormPlain', lambda x: F.layer_norm(x, (x.shape[-1],), None, None, 1e-5), [t([3, 6])], {'eps': 1e-5})
case('layerNorm [2, 2, 300]', 'layerNorm', lambda x, w, b: F.layer_norm(x, (300,), w, b, 1e-5), [t([2, 2, 300]), t([300], 0.5, 1.5), t([300])], {'eps': 1e-5})
running_mean, running_var = t([4]).detach(), t([4], 0.5, 2.0).detach()
case('batchNorm eval', 'batchNormEval', lambda x, w, b, m, v: F.batch_norm(x, m, v, w, b, training=False, eps=1e-5), [t([5, 4]), t([4], 0.5, 1.5), t([4]), running_mean, running_var], {'eps': 1e-5})

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, 'w') as f:
    json.dump({
        'generator': 'scripts/gen_golden.py',
        'torch': torch.__version__,
        'ops': cases,
        'mlp': mlp,
        'optim': {'p0': enc(p0), 'c': enc(cc), 'd': enc(dd), 'cases': optim_cases},
        'clip': clip,
        'layers': layers,
    }, f, separators=(',', ':'))
print(f'wrote {len(cases)} op cases, 1 MLP, {len(optim_cases)} optimiser runs, clipping, layers to {os.path.relpath(OUT)}')
