#!/usr/bin/env python3
"""Prints ddpm-exp's and the PyTorch reference's bench JSON side by side, with the ratio
(ddpm-exp / PyTorch: above 1 means ddpm-exp is faster), as Markdown for bench/RESULTS.md.

    python3 bench/compare.py DDPM_EXP.json PYTORCH.json
"""
import json
import sys


def main():
    ours, ref = (json.load(open(p)) for p in sys.argv[1:3])
    if ours["params"] != ref["params"]:
        sys.exit(f"different networks: ddpm-exp {ours['params']} parameters, PyTorch {ref['params']}")
    rows = [
        ("training steps/s", ours["train_steps_per_s"], ref["train_steps_per_s"]),
        ("sampling images/s (full chain)", ours["sample_images_per_s"], ref["sample_images_per_s"]),
        (f"{ours['sample_images']} samples x {ours['timesteps']} steps, s",
         ours["sample_seconds_full"], ref["sample_seconds_full"]),
    ]
    print(f"device {ours['device']} ({ours['backend']}) vs PyTorch {ref.get('torch')} on {ref['device']}"
          f" ({ref.get('gpu_name') or 'CPU'}), {ours['dtype']}, batch {ours['batch']},"
          f" {ours['params']:,} parameters")
    print()
    print("| measure | ddpm-exp | PyTorch eager | ddpm-exp / PyTorch |")
    print("|---|---:|---:|---:|")
    for i, (name, a, b) in enumerate(rows):
        if not a or not b:
            continue
        # For the time row, a smaller number is better: report the speed ratio anyway.
        ratio = b / a if i == 2 else a / b
        print(f"| {name} | {a:.3f} | {b:.3f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
