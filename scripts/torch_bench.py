"""PyTorch side of `npm run bench -- --vs-pytorch`: training and inference images/s and peak RSS.

  /usr/bin/python3 scripts/torch_bench.py --depth 20 --conv scconv --measure train
  /usr/bin/python3 scripts/torch_bench.py --depth 20 --conv scconv --measure inference --batch 128

Prints one JSON line:
  train:     {"engine", "threads", "depth", "conv", "placement", "batch", "params",
              "imagesPerSec", "medianStepMs", "steps", "peakRssMB"}   (a full SGD-momentum step, as
              the shared reference script times it; steps: how many were timed)
  inference: the same head, then "inference": {"1": {"imagesPerSec", "msPerBatch", "peakRssMB",
             "steps"}, "<batch>": {...}}   (eval mode, torch.no_grad(), batch 1 and --batch)

Timing as bench's: at least --warmup calls lasting --warmup-seconds, then at least --steps timed
calls lasting --min-seconds; the median.

The models are the shared reference script's (../shared/bench/torch_resnet_bench.py, loaded with
importlib from its path, never copied; --reference or $SCCONV_TORCH_BENCH name another copy). That
script reports neither its peak RSS nor inference, hence this one. Every measurement runs in its own
child process (this script with --child), so each peak RSS (getrusage ru_maxrss) is that
measurement's alone: a batch-128 training step would otherwise set the inference's peak.
"""
import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_REFERENCE = os.path.join(HERE, "..", "..", "shared", "bench", "torch_resnet_bench.py")


def load_reference(path):
    """The shared script as a module (its ResNet and Block classes); its main() does not run."""
    if not os.path.isfile(path):
        sys.exit(f"torch_bench.py expects the reference script at {path}, but there is no such file; "
                 "pass --reference PATH or set SCCONV_TORCH_BENCH.")
    spec = importlib.util.spec_from_file_location("torch_resnet_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def peak_rss_mb():
    # Linux reports ru_maxrss in KiB.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def median_seconds(fn, steps, warmup, warmup_seconds=0.0, min_seconds=0.0):
    """Median seconds of fn: at least `steps` timed calls lasting `min_seconds`, after at least
    `warmup` calls lasting `warmup_seconds` (bench's timedLoop, src/analysis/speed.ts)."""
    start, done = time.perf_counter(), 0
    while done < warmup or time.perf_counter() - start < warmup_seconds:
        fn()
        done += 1
    times = []
    while len(times) < steps or sum(times) < min_seconds:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2], len(times)  # the upper middle one for an even count, as bench's median()


def measure(a, what, batch):
    """One measurement in this process: 'train' or 'inference' at `batch`."""
    import torch
    import torch.nn.functional as F
    ref = load_reference(a.reference)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = ref.ResNet(a.depth, a.conv, a.placement)
    x = torch.randn(batch, 3, 32, 32)
    out = {"params": sum(q.numel() for q in model.parameters())}
    if what == "train":
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
        y = torch.randint(0, 10, (batch,))

        def step():
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()

        model.train()
        med, timed = median_seconds(step, a.steps, a.warmup, a.warmup_seconds, a.min_seconds)
        out.update(imagesPerSec=round(batch / med, 1), medianStepMs=round(med * 1e3, 1), steps=timed)
    else:
        model.eval()

        def forward():
            with torch.no_grad():
                model(x)

        med, timed = median_seconds(forward, a.steps, a.warmup, a.warmup_seconds, a.min_seconds)
        out.update(imagesPerSec=round(batch / med, 1), msPerBatch=round(med * 1e3, 2), steps=timed)
    out["peakRssMB"] = peak_rss_mb()
    out["engine"] = "pytorch " + torch.__version__
    return out


def run_child(a, what, batch):
    """measure() in a fresh process; its JSON line as a dict (or the error it printed)."""
    argv = [sys.executable, os.path.abspath(__file__), "--child", what, "--batch", str(batch),
            "--depth", str(a.depth), "--conv", a.conv, "--placement", a.placement, "--threads", str(a.threads),
            "--steps", str(a.steps), "--warmup", str(a.warmup), "--warmup-seconds", str(a.warmup_seconds),
            "--min-seconds", str(a.min_seconds), "--reference", a.reference]
    r = subprocess.run(argv, capture_output=True, text=True)
    lines = r.stdout.strip().splitlines()
    if r.returncode != 0 or not lines:
        err = (r.stderr.strip().splitlines() or [f"exit status {r.returncode}"])[-1]
        raise SystemExit(f"torch_bench.py: the {what} measurement (batch {batch}) failed: {err}")
    return json.loads(lines[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--depth", type=int, default=20)
    p.add_argument("--conv", default="standard", choices=["standard", "scconv"])
    p.add_argument("--placement", default="second", choices=["second", "both"])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup-seconds", type=float, default=0.0, help="warm up for at least this long too")
    p.add_argument("--min-seconds", type=float, default=0.0, help="time calls for at least this long in all")
    p.add_argument("--measure", default="train", choices=["train", "inference"])
    p.add_argument("--reference", default=os.environ.get("SCCONV_TORCH_BENCH") or DEFAULT_REFERENCE)
    p.add_argument("--child", choices=["train", "inference"], help=argparse.SUPPRESS)
    a = p.parse_args()
    a.reference = os.path.abspath(a.reference)
    if a.batch < 1 or a.steps < 1 or a.warmup < 0 or a.warmup_seconds < 0 or a.min_seconds < 0:
        sys.exit(f"torch_bench.py expects --batch >= 1, --steps >= 1 and --warmup, --warmup-seconds, --min-seconds >= 0, "
                 f"but received {a.batch}, {a.steps}, {a.warmup}, {a.warmup_seconds} and {a.min_seconds}.")
    if a.child:
        print(json.dumps(measure(a, a.child, a.batch)))
        return
    load_reference(a.reference)  # fail here, with the path, rather than in every child
    head = {"threads": a.threads, "depth": a.depth, "conv": a.conv, "placement": a.placement, "batch": a.batch}
    if a.measure == "train":
        r = run_child(a, "train", a.batch)
        print(json.dumps({"engine": r.pop("engine"), **head, "params": r.pop("params"), **r}))
        return
    runs = {str(b): run_child(a, "inference", b) for b in dict.fromkeys([1, a.batch])}
    first = next(iter(runs.values()))
    line = {"engine": first["engine"], **head, "params": first["params"],
            "inference": {b: {k: r[k] for k in ("imagesPerSec", "msPerBatch", "peakRssMB", "steps")} for b, r in runs.items()}}
    print(json.dumps(line))


if __name__ == "__main__":
    main()
