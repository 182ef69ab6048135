#!/usr/bin/env python3
"""Writes CIFAR-10-format binary batches of 32x32 colour crops of the photos that ship
inside scikit-learn and scikit-image, for GPU smoke runs of the cifar10 profile on a
machine that cannot download CIFAR-10 (no network). These are NOT CIFAR-10: the loss
curves show the pipeline trains, not the paper's numbers.

    python3 scripts/cifar_like_patches.py OUT_DIR [--train 50000] [--test 10000] [--seed 0]

Each record is one label byte (the photo's index mod 10) and 3072 bytes of R, G, B planes,
as in the real data_batch_N.bin / test_batch.bin.
"""
import argparse
import os
import sys

import numpy as np
from PIL import Image


def photos():
    found = []
    try:
        from sklearn.datasets import load_sample_images
        found += list(load_sample_images().images)
    except Exception as e:  # the photos are optional one by one
        print(f"sklearn sample images unavailable: {e}", file=sys.stderr)
    try:
        import skimage.data as d
        for name in ["astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "retina"]:
            try:
                img = getattr(d, name)()
                if img.ndim == 3 and img.shape[2] >= 3:
                    found.append(np.asarray(img)[:, :, :3])
            except Exception as e:
                print(f"skimage.data.{name} unavailable: {e}", file=sys.stderr)
    except Exception as e:
        print(f"scikit-image unavailable: {e}", file=sys.stderr)
    if len(found) < 2:
        sys.exit("need at least two colour photos from scikit-learn or scikit-image")
    return [Image.fromarray(p.astype(np.uint8)) for p in found]


def crops(images, count, rng):
    out = np.empty((count, 1 + 3072), dtype=np.uint8)
    for i in range(count):
        k = int(rng.integers(len(images)))
        img = images[k]
        w, h = img.size
        side = int(rng.integers(32, max(33, min(w, h) // 3)))
        x, y = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
        patch = img.crop((x, y, x + side, y + side)).resize((32, 32), Image.BOX)
        out[i, 0] = k % 10
        out[i, 1:] = np.asarray(patch, dtype=np.uint8).transpose(2, 0, 1).reshape(-1)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--train", type=int, default=50000)
    ap.add_argument("--test", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    images = photos()
    os.makedirs(args.out, exist_ok=True)
    per_batch = -(-args.train // 5)
    train = crops(images, args.train, rng)
    for b in range(5):
        train[b * per_batch:(b + 1) * per_batch].tofile(os.path.join(args.out, f"data_batch_{b + 1}.bin"))
    crops(images, args.test, rng).tofile(os.path.join(args.out, "test_batch.bin"))
    print(f"{args.out}: {args.train} train + {args.test} test crops of {len(images)} photos")


if __name__ == "__main__":
    main()
