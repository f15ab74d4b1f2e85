"""Golden values for the saliency gallery (src/host/inspect-saliency.test.ts), from PyTorch.

A 6-5-3 tanh MLP with weights given by formulas (the test builds the same ones), four input rows:
each row's gradient of its own cross-entropy loss and of its predicted class's logit with respect
to the input. Run with Debian's python3-torch: /usr/bin/python3 scripts/gen_saliency_golden.py
Writes src/host/testdata/saliency-golden.json, which is committed: the tests need no Python.
"""
import json
import math
import os

import torch

torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(__file__), '..', 'src', 'host', 'testdata', 'saliency-golden.json')

# Weights in the engine's layout, [in, out]: y = x @ W + b.
W0 = torch.tensor([[math.sin(0.7 * (i * 5 + j) + 0.3) * 0.6 for j in range(5)] for i in range(6)])
b0 = torch.tensor([0.1 * math.cos(j) for j in range(5)])
W1 = torch.tensor([[math.cos(0.45 * (i * 3 + j)) * 0.8 for j in range(3)] for i in range(5)])
b1 = torch.tensor([0.05 * j for j in range(3)])
x = torch.tensor([[math.sin(1.3 * r + 0.9 * k) for k in range(6)] for r in range(4)], requires_grad=True)
labels = torch.tensor([0, 2, 1, 2])

logits = torch.tanh(x @ W0 + b0) @ W1 + b1
predicted = logits.argmax(dim=1)
# Sum of per-row losses: row r's input gradient is that row's own loss gradient.
torch.nn.functional.cross_entropy(logits, labels, reduction='sum').backward()
loss_grad = x.grad.clone()
x.grad = None
logits = torch.tanh(x @ W0 + b0) @ W1 + b1
logits.gather(1, predicted[:, None]).sum().backward()
logit_grad = x.grad.clone()

with open(OUT, 'w') as f:
    json.dump({
        'torch': torch.__version__,
        'x': x.detach().tolist(),
        'labels': labels.tolist(),
        'predicted': predicted.tolist(),
        'lossGrad': loss_grad.tolist(),
        'logitGrad': logit_grad.tolist(),
    }, f, indent=1)
    f.write('\n')
print('wrote', OUT)
