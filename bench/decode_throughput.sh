#!/usr/bin/env bash
# Images per second `dataset: image_folder` decodes, scales and crops on this machine, at
# 64×64 and 256×256, beside the training step's images per second (`ddpm-exp bench`) at the
# same sizes; and the streaming loader delivering batches of 128 from the same files.
#   bench/decode_throughput.sh [COUNT] [decode-only]
# (`decode-only` skips the training steps, which take ~20 minutes at 256 on 2 cores.)
# The folders are COUNT (default 2000) Fashion-MNIST training images (Debian's
# dataset-fashion-mnist) tinted and scaled up with Pillow into JPEGs (quality 90) 1.25×1.5
# the target side, as LSUN's photos are somewhat larger than 256 and not square. Needs
# .venv-tch (Pillow) and a release build.
set -euo pipefail
count=${1:-2000}
here=$(cd "$(dirname "$0")/.." && pwd)
python=$here/.venv-tch/bin/python
bin=$here/target/release/ddpm-exp
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" - "$work" "$count" <<'PY'
import gzip, sys
import numpy as np
from PIL import Image

work, count = sys.argv[1], int(sys.argv[2])
raw = gzip.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz").read()
images = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)[:count]
tint = np.array([1.0, 0.7, 0.4])
for side in (64, 256):
    size = (int(side * 1.25), int(side * 1.5))
    for i, grey in enumerate(images):
        rgb = (grey[..., None] * tint).astype(np.uint8)
        Image.fromarray(rgb).resize(size, Image.BICUBIC).save(f"{work}/{side}_{i:05d}.jpg", quality=90)
PY
for side in 64 256; do
    mkdir -p "$work/src$side" && mv "$work/${side}_"*.jpg "$work/src$side/"
    du -sh "$work/src$side" | sed "s|$work/||"
    "$bin" data throughput "$work/src$side" --image-size "$side" --passes 3 --batch-size 128
done
[ "${2:-}" = decode-only ] && exit 0
echo "== training step: experiments/eps_simple.yaml's small UNet (16 channels), batch 16, CPU"
for side in 64 256; do
    "$bin" bench "$here/experiments/eps_simple.yaml" --batch 16 --warmup 3 --train-steps 5 \
        --set data.dataset=image_folder --set "data.dir=$work/src$side" \
        --set "data.image_size=$side" --set data.channels=3 \
        --set "model.attention_resolutions=[$((side / 4))]" --set eval.nll_at_end=false \
        --set eval.quality_at_end=false --set eval.quality_every=0 2>&1 |
        grep -E '"(train_steps_per_s|batch)"' | tr -d ' ,' | tr '\n' ' '
    echo "(side $side)"
done
