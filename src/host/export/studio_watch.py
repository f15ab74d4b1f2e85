"""Watch a PyTorch training loop live in Backprop Studio (serve mode).

Standard library only (torch is used through the model you pass in). Add two lines to any loop:

    from studio_watch import StudioWatch
    watch = StudioWatch("http://127.0.0.1:8765/?token=...")   # the URL `npm run serve` printed
    for step, (x, y) in enumerate(loader):
        ...
        loss.backward()
        watch.log(step, loss, model, optimizer)               # after backward(), before zero_grad()
        optimizer.step()
    watch.close()

The studio lists the run under Runs (Watch shows it live: loss chart, per-layer gradient heatmap,
layer health and alarms). Reports go from a background thread through a bounded queue, so
`log` never waits for the network: when the studio is away or slow, points are dropped and
counted (`watch.dropped`), and the connection is retried later. Under torchrun only rank 0
reports (RANK, or torch.distributed's rank). The token goes in an Authorization header; the
studio must be on this machine (127.0.0.1/localhost) unless allow_remote=True, e.g. behind an SSH
tunnel.
"""

import atexit
import json
import math
import os
import queue
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

__all__ = ["StudioWatch"]

MAX_POINTS_PER_REPORT = 256  # the studio refuses more (WATCH_LIMITS in src/shared/protocol-watch.ts)
MAX_LAYERS = 64
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _rank():
    try:
        import torch.distributed as dist  # noqa: PLC0415 (only when torch is there)

        if dist.is_available() and dist.is_initialized():
            return dist.get_rank()
    except ImportError:
        pass
    return int(os.environ.get("RANK", "0") or 0)


def _finite(x):
    return x is not None and not math.isnan(x) and not math.isinf(x)


class StudioWatch:
    """Streams loss and per-layer gradient/weight statistics to a running studio.

    url: the address serve mode printed (token in ?token=), or its origin with token=...
    stats_every: per-layer statistics on every n-th log call (each costs one device sync).
    """

    def __init__(self, url, token=None, name=None, stats_every=1, queue_size=1024, timeout=2.0,
                 flush_interval=0.25, allow_remote=False, enabled=None, verbose=True):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"StudioWatch: {url!r} is not an http(s) address of a studio")
        if parts.hostname not in LOOPBACK and not allow_remote:
            raise ValueError(
                f"StudioWatch: {parts.hostname} is not this machine; the token would cross the network in the clear. "
                "Tunnel the port (ssh -L) and use 127.0.0.1, or pass allow_remote=True"
            )
        self.token = token or urllib.parse.parse_qs(parts.query).get("token", [""])[0]
        if not self.token:
            raise ValueError("StudioWatch: no token; pass the full URL serve mode printed (…/?token=…) or token=")
        self.endpoint = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/api/watch", "", ""))
        self.name = name or f"PyTorch {os.path.basename(sys.argv[0]) or 'run'}"
        self.enabled = (_rank() == 0) if enabled is None else bool(enabled)
        self.stats_every = max(1, int(stats_every))
        self.timeout = timeout
        self.flush_interval = flush_interval
        self.verbose = verbose
        self.watch_id = uuid.uuid4().hex
        self.sent = 0
        self.dropped = 0
        self.last_error = None
        self.run_id = None
        self._calls = 0
        self._layers = None  # [(name, module)], fixed at the first model seen
        self._lock = threading.Lock()
        self._queue = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._closed = False
        self._refused = False  # the studio said the token is wrong: stop trying
        self._retry_at = 0.0
        self._backoff = 1.0
        self._thread = None
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="studio-watch", daemon=True)
            self._thread.start()
            atexit.register(self.close)

    # ------------------------------------------------------------------ the training loop's side

    def log(self, step, loss, model=None, optimizer=None, lr=None, epoch=0):
        """Record one step. Never blocks and never raises on the studio's account."""
        if not self.enabled or self._closed:
            return
        loss = float(loss.detach().item() if hasattr(loss, "detach") else loss)
        if optimizer is not None and lr is None:
            lr = float(optimizer.param_groups[0]["lr"])
        point = {"step": int(step), "loss": loss if _finite(loss) else None, "epoch": int(epoch),
                 "lr": float(lr) if lr is not None and _finite(float(lr)) else None}
        if model is not None and self._calls % self.stats_every == 0:
            stats = self._stats(model)
            if stats is None:
                point["nonFinite"] = True
            elif stats:
                point["stats"] = stats
        self._calls += 1
        try:
            self._queue.put_nowait(point)
        except queue.Full:
            self._count_dropped(1)

    def _stats(self, model):
        import torch  # noqa: PLC0415 (the caller's model is a torch module)

        if self._layers is None:
            found = []
            for name, m in model.named_modules():
                w = getattr(m, "weight", None)
                if isinstance(w, torch.nn.Parameter) and w.dim() >= 2:
                    found.append((name[len("module."):] if name.startswith("module.") else name or "model", m))
            self._layers = found[:MAX_LAYERS]
        if not self._layers:
            return []
        rows = []
        with torch.no_grad():
            for _, m in self._layers:
                w = m.weight.detach().float()
                g = m.weight.grad
                g = torch.zeros_like(w) if g is None else g.detach().float()
                b = getattr(m, "bias", None)
                bg = b.grad.detach().float().norm() if b is not None and b.grad is not None else w.new_zeros(())
                rows.append(torch.stack([g.norm(), g.abs().mean(), g.abs().max(), w.norm(), bg]))
            values = torch.stack(rows).cpu().tolist()  # one device sync for every layer
        out = []
        for v in values:
            if not all(_finite(x) for x in v):
                return None
            out.append({"gradNorm": v[0], "meanAbsGrad": v[1], "maxAbsGrad": v[2], "weightNorm": v[3],
                        "biasGradNorm": v[4]})
        return out

    def close(self, timeout=5.0):
        """Send what is queued (the run is then saved as finished) and stop. Returns the counts."""
        if self._thread is not None and not self._closed:
            self._closed = True
            self._stop.set()
            self._thread.join(timeout)
        self._closed = True
        return {"sent": self.sent, "dropped": self.dropped, "last_error": self.last_error, "run_id": self.run_id}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ the sending thread

    def _count_dropped(self, n):
        with self._lock:
            self.dropped += n

    def _take(self, wait):
        points = []
        deadline = time.monotonic() + wait
        while len(points) < MAX_POINTS_PER_REPORT:
            left = deadline - time.monotonic()
            try:
                points.append(self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait())
            except queue.Empty:
                break
        return points

    def _run(self):
        while not self._stop.is_set():
            points = self._take(self.flush_interval)
            if points:
                self._send(points, final=False)
        # Closing: what is left, in reports of at most MAX_POINTS_PER_REPORT, the last one final.
        while True:
            points = self._take(0)
            final = self._queue.empty()
            self._send(points, final=final, closing=True)
            if final:
                return

    def _send(self, points, final, closing=False):
        if self._refused or (time.monotonic() < self._retry_at and not closing):
            self._count_dropped(len(points))
            return
        layers = [n for n, _ in self._layers or []]
        shapes = [list(m.weight.shape) for _, m in self._layers or []]
        body = json.dumps({"watchId": self.watch_id, "name": self.name, "layers": layers, "shapes": shapes,
                           "points": points, "final": final, "dropped": self.dropped}).encode("utf-8")
        req = urllib.request.Request(self.endpoint, data=body, method="POST", headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                answer = json.loads(res.read().decode("utf-8") or "{}")
            self.run_id = answer.get("runId", self.run_id)
            self.sent += len(points)
            self._backoff = 1.0
            self._retry_at = 0.0
            for alarm in answer.get("alarms", []):
                self._say(f"alarm: {alarm}")
        except urllib.error.HTTPError as e:
            self._count_dropped(len(points))
            self._refusal(e)
        except Exception as e:  # noqa: BLE001 (a dead or hung studio must never stop training)
            self._count_dropped(len(points))
            self._offline(f"the studio at {self.endpoint} is not answering ({e}); dropping points, retrying")

    def _refusal(self, e):
        try:
            message = json.loads(e.read().decode("utf-8"))["error"]["message"]
        except Exception:  # noqa: BLE001
            message = f"HTTP {e.code} {e.reason}"
        if e.code == 403:
            self._refused = True
        if e.code in (429, 502, 503, 504):
            return self._offline(message)
        if message != self.last_error:
            self._say(f"the studio refused a report: {message}")
        self.last_error = message

    def _offline(self, message):
        self._retry_at = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, 10.0)
        if message != self.last_error:
            self._say(message)
        self.last_error = message

    def _say(self, message):
        if self.verbose:
            print(f"studio_watch: {message}", file=sys.stderr, flush=True)
