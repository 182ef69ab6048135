#!/usr/bin/env bash
# Peak memory (max RSS) of short training runs over an image folder whose decoded training
# split is far larger than the streaming loader's budget, against the same run with the set
# held in memory and against a base run on a tiny folder (the model's own share).
#   bench/stream_memory.sh [COUNT] [STEPS]
# The folder is COUNT (default 20000) Fashion-MNIST training images (Debian's
# dataset-fashion-mnist) tinted and scaled with Pillow into 80×96 JPEGs (quality 90), read at
# 64×64×3: COUNT × 48 KiB decoded (938 MiB for 20000). Needs .venv-tch (Pillow) and a release
# build; GNU time gives the peak.
set -euo pipefail
count=${1:-20000}
steps=${2:-30}
here=$(cd "$(dirname "$0")/.." && pwd)
python=$here/.venv-tch/bin/python
bin=$here/target/release/ddpm-exp
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" - "$work" "$count" <<'PY'
import gzip, os, sys
import numpy as np
from PIL import Image

work, count = sys.argv[1], int(sys.argv[2])
raw = gzip.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz").read()
images = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)
tint = np.array([1.0, 0.7, 0.4])
for name, n in (("large", count), ("tiny", 64)):
    os.makedirs(f"{work}/{name}/{name}")
    for i in range(n):
        rgb = (images[i % len(images)][..., None] * tint).astype(np.uint8)
        Image.fromarray(rgb).resize((80, 96), Image.BICUBIC).save(
            f"{work}/{name}/{name}/{i:06d}.jpg", quality=90)
PY
du -sh "$work/large" | sed "s|$work/||"
run() { # FOLDER LOADER MEMORY_MB
    local out="$work/results-$1-$2-$3"
    /usr/bin/time -f "peak RSS %M KiB, wall %e s" "$bin" run "$here/experiments/eps_simple.yaml" \
        --out "$out" --set data.dataset=image_folder --set "data.dir=$work/$1" \
        --set data.image_size=64 --set data.channels=3 --set "data.loader=$2" \
        --set "data.memory_mb=$3" --set "model.attention_resolutions=[16]" \
        --set "train.steps=$steps" --set train.batch_size=16 --set "train.checkpoint_every=$steps" \
        --set diffusion.timesteps=100 --set sample.count=4 --set eval.nll_at_end=false \
        --set eval.quality_at_end=false --set eval.quality_every=0 2> "$work/log" > /dev/null
    echo "$1 folder, loader $2, memory_mb $3: $(tail -1 "$work/log")"
    grep -h '"loss"' -c "$out"/*/spec.yaml > /dev/null 2>&1 || true
}
run tiny memory 4096
run large stream 64
run large stream 512
run large memory 4096
