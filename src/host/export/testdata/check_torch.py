"""Loads exported PyTorch packages and reports what PyTorch computes (for export-python.test.ts).

stdin: {"forward": [{"dir", "x"}], "train": [{"dir", "csv", "x", "y"}]}; stdout: one JSON object.
"""
import json
import os
import subprocess
import sys

try:
    import torch
except ImportError as e:
    sys.exit("PyTorch is missing (%s): apt-get install python3-torch, or set BPS_SKIP_PYTHON=1 to skip" % e)


def import_from(d, name):
    """Import d/name.py fresh (each exported package has its own model.py)."""
    for m in ("model", "train"):
        sys.modules.pop(m, None)
    sys.path.insert(0, d)
    try:
        return __import__(name)
    finally:
        sys.path.remove(d)


def forward(case):
    model_py = import_from(case["dir"], "model")
    net = model_py.load_model(os.path.join(case["dir"], "weights.safetensors"))
    with torch.no_grad():
        y = net(torch.tensor(case["x"], dtype=torch.float32))
    # A plain MLP is an nn.Sequential (net); one with blocks lists each block's modules.
    modules = [type(m).__name__ for m in net.net] if hasattr(net, "net") else [[type(m).__name__ for m in b.children()] for b in net.blocks]
    state = net.state_dict()
    return {
        "y": y.tolist(),
        "keys": list(state.keys()),
        "modules": modules,
        "int64": [k for k, v in state.items() if v.dtype == torch.int64],
        "training": net.training,
    }


def train(case):
    d = case["dir"]
    train_py = import_from(d, "train")
    model_py = sys.modules["model"]
    net = model_py.load_model(os.path.join(d, "weights.safetensors"))
    opt = train_py.make_optimizer(net.parameters())
    group = {k: (list(v) if isinstance(v, tuple) else v) for k, v in opt.param_groups[0].items() if k != "params"}
    with torch.no_grad():
        loss0 = train_py.loss_fn(net(torch.tensor(case["x"])), torch.tensor(case["y"], dtype=torch.float32)).item()
    run = subprocess.run([sys.executable, "train.py", case["csv"], "--steps", "2"], cwd=d, capture_output=True, text=True)
    result = {"optimizer": type(opt).__name__, "group": group, "loss0": loss0, "rc": run.returncode, "stdout": run.stdout, "stderr": run.stderr[-2000:]}
    if run.returncode == 0:
        before = model_py.load_safetensors(os.path.join(d, "weights.safetensors"))
        after = model_py.load_safetensors(os.path.join(d, "weights-trained.safetensors"))
        trained = model_py.MLP()
        trained.load_state_dict(after)  # strict: the saved names and shapes fit the module
        result["changed"] = any(not torch.equal(before[k], after[k]) for k in before)
        result["finite"] = all(bool(torch.isfinite(t).all()) for t in after.values())
    return result


cases = json.load(sys.stdin)
print(json.dumps({
    "torch": torch.__version__,
    "python": sys.version.split()[0],
    "forward": [forward(c) for c in cases["forward"]],
    "train": [train(c) for c in cases["train"]],
}))
