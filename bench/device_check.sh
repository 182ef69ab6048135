#!/usr/bin/env bash
# Issue 15's GPU figures in one call, for a machine with a CUDA GPU and PyTorch but no Rust and
# no network (the device machines): the cifar10 profile at batch 128 against PyTorch eager in
# fp32 and bf16 (training, 256 samples, ddpm-exp's phase table; bench/run.sh --torch-best),
# then a short training run of the cifar10 profile on CIFAR-like crops
# (scripts/cifar_like_patches.py: CIFAR-10 itself cannot be downloaded there), whose loss
# should fall as it did before (bench/RESULTS.md, H100 2026-11-22: 0.997 at step 40, 0.366 at
# step 400, lr still warming up).
#
#   DDPM_EXP=path/to/ddpm-exp bench/device_check.sh [--device cuda] [--rounds N]
#                                                   [--sample-steps N] [--steps N] [--dry-run]
#
# Build the binary on the development machine (`scripts/setup-tch.sh --bin ddpm-exp`) and carry
# it over; it runs on the machine's own torch (2.11.0 on both), whose lib/ goes on
# LD_LIBRARY_PATH. Defaults: 1 round (a GPU does not drift as the 2-core CPUs do), 100 of the
# 1000 reverse steps timed and the chain extrapolated, 300 training steps: about 5 minutes on
# an H100 going by its 2026-11-22 figures (not yet run there). --dry-run prints the commands.
# Everything lands in $OUT (the device tool's folder) or bench/out/device: machine.txt,
# bench_fp32.md, bench_bf16.md, bench/ (the JSONs), run.log and run/ (the short run's
# meta.json, metrics.parquet, spec.yaml, samples.png).
set -euo pipefail
cd "$(dirname "$0")/.."

device=cuda rounds=1 sample_steps=100 steps=300 dry_run=no
while [ $# -gt 0 ]; do
    [ "$1" = --dry-run ] && { dry_run=yes; shift; continue; }
    [ $# -ge 2 ] || { echo "device_check: $1 needs a value" >&2; exit 2; }
    case "$1" in
        --device) device=$2 ;;
        --rounds) rounds=$2 ;;
        --sample-steps) sample_steps=$2 ;;
        --steps) steps=$2 ;;
        *) echo "device_check: unknown option '$1' (the options are in the header of $0)" >&2; exit 2 ;;
    esac
    shift 2
done
out=${OUT:-bench/out/device}
python=${PYTHON:-python3}
bin=${DDPM_EXP:-target/release/ddpm-exp}
run() { if [ "$dry_run" = yes ]; then echo "$*"; else "$@"; fi; }
# Passes its input through, also into FILE unless this is a dry run.
keep() { if [ "$dry_run" = yes ]; then cat; else tee "$1"; fi; }

if [ "$dry_run" = no ]; then
    [ -x "$bin" ] || { echo "device_check: no ddpm-exp binary at '$bin' (set DDPM_EXP)" >&2; exit 2; }
    torch_lib=$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
    export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
export DDPM_EXP="$bin" PYTHON="$python"
mkdir -p "$out"
[ "$dry_run" = yes ] || "$python" -c 'import torch
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device"
print("torch", torch.__version__, "on", gpu)' | keep "$out/machine.txt"

for dtype in fp32 bf16; do
    run bench/run.sh --device "$device" --profile cifar10 --dtype "$dtype" --batch 128 \
        --warmup 20 --train-steps 50 --sample-images 256 --sample-steps "$sample_steps" \
        --phases 20 --torch-best --rounds "$rounds" --out "$out/bench" | keep "$out/bench_$dtype.md"
done

# The short run: evaluations off (no Inception weights, no classifier there), a small sample
# grid at the end, the loss logged every 20 steps. The data (154 MB) and the run folder (its
# checkpoints are ~570 MB) stay in a scratch folder; meta.json, metrics.parquet and the
# sample grid are copied to the results.
scratch=${TMPDIR:-/tmp}/ddpm-device-check
data="$scratch/cifar_like"
run "$python" scripts/cifar_like_patches.py "$data"
run "$bin" run experiments/eps_simple.yaml --profile cifar10 --device "$device" \
    --set data.dir="$data" --set train.steps="$steps" --set train.log_every=20 \
    --set eval.nll_at_end=false --set eval.quality_at_end=false --set eval.quality_every=0 \
    --set sample.count=16 --out "$scratch/runs" 2>&1 | keep "$out/run.log"
if [ "$dry_run" = no ]; then
    run_dir=$(tail -n 1 "$out/run.log")
    mkdir -p "$out/run"
    cp "$run_dir"/{meta.json,metrics.parquet,spec.yaml} "$out/run/"
    cp "$run_dir"/samples.png "$out/run/" 2>/dev/null || true
fi
