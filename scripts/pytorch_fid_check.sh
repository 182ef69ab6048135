#!/usr/bin/env bash
# pytorch-fid's own FID against ddpm-exp's Inception FID, on the same images with the same
# weights: the seeded random-weight Inception-v3 of scripts/inception_reference.py (pytorch-fid's
# real weights cannot be fetched offline; with them, pass their file as WEIGHTS).
#   scripts/pytorch_fid_check.sh RUN_DIR [SAMPLES [WEIGHTS.pth]]
# pytorch-fid reads PNG folders: the run's quality samples (`ddpm-exp sample --quality-samples`,
# the very images `eval --quality` scores) and its dataset's training split (`ddpm-exp data
# export`). Needs .venv-tch (scripts/setup-tch.sh test) and a release build.
set -euo pipefail
run=${1:?usage: $0 RUN_DIR [SAMPLES [WEIGHTS.pth]]}
samples=${2:-297}
here=$(cd "$(dirname "$0")/.." && pwd)
python=$here/.venv-tch/bin/python
bin=$here/target/release/ddpm-exp
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
weights=${3:-}
if [ -z "$weights" ]; then
    "$python" "$here/scripts/inception_reference.py" "$work/reference" > /dev/null
    weights=$work/reference/weights.pth
fi
dataset=$(sed -n 's/^  dataset: *//p' "$run/spec.yaml" | head -1)
"$bin" data export "$dataset" --split train --out "$work/train" > /dev/null
"$bin" sample "$run" --quality-samples --count "$samples" --out "$work/samples" > /dev/null
echo "== ddpm-exp eval --quality --inception (its own pipeline, the same samples)"
"$bin" eval "$run" --quality --samples "$samples" --inception "$weights" 2> /dev/null
echo "== pytorch-fid calculate_fid_given_paths on the PNG folders"
"$python" - "$work/samples" "$work/train" "$weights" <<'PY'
import sys, time
import torch
import pytorch_fid.inception as pfi
from pytorch_fid.fid_score import calculate_fid_given_paths

samples, train, weights = sys.argv[1:4]
# fid_inception_v3() fetches its weights by URL: hand it this file instead.
pfi.load_state_dict_from_url = lambda *args, **kwargs: torch.load(weights, map_location="cpu")
started = time.time()
fid = calculate_fid_given_paths([samples, train], batch_size=50, device="cpu", dims=2048, num_workers=0)
print(f"pytorch-fid FID {fid:.6f} ({time.time() - started:.0f} s)")
PY
