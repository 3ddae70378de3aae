#!/usr/bin/env bash
# The engine against PyTorch, in one run (issue 13): the same VGG-16-BN network (bench/vgg_twin.py is the PyTorch twin
# of lib/MarrowDiff/Model/VggNet.cs; their parameter counts are checked equal), at widths 1, 1/4 and 1/8 (96 px) and
# 1/8 on 96-px patches pooled to 48, training and inference, batch 40, 2 threads, interleaved (TorchSharp, PyTorch,
# PyTorch, TorchSharp, ...) so that a noisy shared machine slows both alike. Then TorchSharp's levers against its own
# default, interleaved the same way: bf16 convolutions, channels-last, BatchNorm folded for inference.
# Prints seconds per step, images/s, GFLOP/s, and each ratio. Raw lines: $OUT (default bench/results/<date>.jsonl).
#
#   bash bench/run.sh            # everything (2 min 45 s on the 2-core Zen 5 without PyTorch; most of it the full-width network)
#   ROUNDS=1 STEPS=2 bash bench/run.sh
#
# PyTorch: Debian's python3-torch, installed with apt-get if absent and possible; if it cannot be installed, the
# PyTorch columns say so and the levers are still measured. Debian's python is called by its path: `python3` on the PATH
# may be pyenv's, which cannot see Debian's packages. The bf16 lever is timed only where the CPU has AVX512_BF16:
# elsewhere oneDNN emulates it many times slower, which says nothing about the lever and takes most of the run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-2}
STEPS=${STEPS:-3}
THREADS=2
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3
BF16=no; grep -qw avx512_bf16 /proc/cpuinfo && BF16=yes
OUT=${OUT:-bench/results/$(date -u +%Y%m%dT%H%M%SZ).jsonl}
mkdir -p "$(dirname "$OUT")"
: > "$OUT"

echo "machine: $(lscpu | grep 'Model name' | sed 's/ *Model name: *//'), $(nproc) cores, $(grep -o -m1 avx512f /proc/cpuinfo || echo 'no avx512f'), $(grep -o -m1 avx512_bf16 /proc/cpuinfo || echo 'no avx512_bf16')"

dotnet build -c Release lib/MarrowDiff.Cli -v quiet -nologo >/dev/null
MARROW="dotnet lib/MarrowDiff.Cli/bin/Release/net10.0/marrow.dll"

# Debian's PyTorch: never next to the .NET process (the LibTorch that TorchSharp loads is its own), and at 2 threads
# like ours (that PyTorch defaults to 1).
PYTORCH=yes
if ! $PYTHON -c 'import torch' 2>/dev/null; then
  echo "PyTorch not found: installing Debian's python3-torch"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq python3-torch; } >/dev/null 2>&1 || ! $PYTHON -c 'import torch' 2>/dev/null; then
    echo "PyTorch could not be installed here (apt-get install python3-torch failed): PyTorch columns are 'not measured'"
    PYTORCH=no
  fi
fi

# name | marrow bench arguments | vgg_twin.py arguments
CONFIGS=(
  "width 1, 96 px|--width 1 --input 96 --dropout 0|--width 1 --input 96"
  "width 1/4, 96 px|--width 0.25 --input 96 --dropout 0|--width 0.25 --input 96"
  "width 1/8, 96 px|--width 0.125 --input 96 --dropout 0|--width 0.125 --input 96"
  "width 1/8, 48 px (pooled)|--width 0.125 --input 48 --patch 96 --dropout 0|--width 0.125 --input 48 --patch 96"
)

ts() { $MARROW bench "$@" --steps "$STEPS" --json | tail -n 1 | tee -a "$OUT"; }
py() { OMP_NUM_THREADS=$THREADS $PYTHON bench/vgg_twin.py "$@" --steps "$STEPS" --threads $THREADS | tail -n 1 | tee -a "$OUT"; }

for round in $(seq 1 "$ROUNDS"); do
  for cfg in "${CONFIGS[@]}"; do
    IFS='|' read -r name targs pargs <<<"$cfg"
    for mode in train infer; do
      # Alternate which engine goes first, round by round.
      if (( round % 2 )); then ts $targs --mode $mode >/dev/null; [ $PYTORCH = yes ] && py $pargs --mode $mode >/dev/null
      else [ $PYTORCH = yes ] && py $pargs --mode $mode >/dev/null; ts $targs --mode $mode >/dev/null; fi
      # The levers, each against the default measured just before.
      [ $BF16 = yes ] && ts $targs --mode $mode --bf16 >/dev/null
      ts $targs --mode $mode --channels-last >/dev/null
      [ $mode = infer ] && ts $targs --mode $mode --fold-bn >/dev/null
      [ $mode = infer ] && [ $BF16 = yes ] && ts $targs --mode $mode --fold-bn --bf16 >/dev/null
      echo "round $round: $name, $mode done" >&2
    done
  done
done

[ $BF16 = yes ] || echo "bf16 not timed: this CPU has no AVX512_BF16 (oneDNN would emulate it, 12-15x slower)"
$PYTHON bench/summarise.py "$OUT" "$PYTORCH"
