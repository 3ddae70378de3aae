#!/usr/bin/env python3
"""Summarises bench/run.sh's JSON lines: TorchSharp against PyTorch, and each TorchSharp lever against its default.
Medians over rounds; the ratio is TorchSharp seconds / PyTorch seconds (below 1: TorchSharp faster)."""
import json
import statistics
import sys
from collections import defaultdict

path, pytorch = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "yes")
rows = [json.loads(line) for line in open(path) if line.strip().startswith("{")]


def key(r):
    return (r["width"], r["input"], r.get("patch") or r["input"], r["mode"])


ts = defaultdict(list)      # (key, levers) -> seconds
pt = defaultdict(list)      # key -> seconds
flops, params = {}, {}
for r in rows:
    k = key(r)
    if r["engine"].startswith("torchsharp"):
        ts[(k, r["levers"])].append(r["seconds_per_step"])
        flops[k] = r["gflop_per_step"]
        params[("ts",) + k] = r["parameters"]
    else:
        pt[k].append(r["seconds_per_step"])
        params[("pt",) + k] = r["parameters"]

cpu = next((r["cpu"] for r in rows if "cpu" in r), "?")
print(f"\nMeasured on {cpu}; batch 40; medians of {max((len(v) for v in ts.values()), default=0)} rounds; {path}\n")


def name(k):
    w, i, p, _ = k
    frac = {1.0: "1", 0.25: "1/4", 0.125: "1/8"}.get(w, str(w))
    return f"width {frac}, {i} px" + (f" (pooled from {p})" if p != i else "")


print(f"{'network':34} {'mode':5} {'TorchSharp s':>12} {'PyTorch s':>10} {'TS/PT':>6} {'TS GFLOP/s':>10} {'PT GFLOP/s':>10} {'params equal':>12}")
for k in sorted({k for (k, lev) in ts if lev == "fp32"}, key=lambda k: (-k[0], -k[1], k[3])):
    t = statistics.median(ts[(k, "fp32")])
    if k in pt:
        p = statistics.median(pt[k])
        same = params.get(("ts",) + k) == params.get(("pt",) + k)
        print(f"{name(k):34} {k[3]:5} {t:12.4f} {p:10.4f} {t / p:6.2f} {flops[k] / t:10.1f} {flops[k] / p:10.1f} {str(same):>12}")
        if not same:
            print(f"  !! parameter counts differ: TorchSharp {params.get(('ts',) + k)}, PyTorch {params.get(('pt',) + k)}")
    else:
        print(f"{name(k):34} {k[3]:5} {t:12.4f} {'not measured' if pytorch != 'yes' else '-':>10} {'':6} {flops[k] / t:10.1f}")

print(f"\n{'network':34} {'mode':5} {'lever':22} {'s/step':>9} {'speed-up':>9}  (against fp32 default, same run)")
for (k, lev) in sorted(ts, key=lambda x: (-x[0][0], -x[0][1], x[0][3], x[1])):
    if lev == "fp32":
        continue
    base = statistics.median(ts[(k, "fp32")])
    t = statistics.median(ts[(k, lev)])
    print(f"{name(k):34} {k[3]:5} {lev:22} {t:9.4f} {base / t:8.2f}x")
