#!/usr/bin/env python3
"""Prints ddpm-exp's and the PyTorch reference's bench JSON side by side, with the ratio
(ddpm-exp / PyTorch: above 1 means ddpm-exp is faster), as Markdown for bench/RESULTS.md.
Given several PyTorch results (the forms `bench/run.sh --torch-best` runs), each measure is
compared with the fastest of them, named in the last column. ddpm-exp's phase table follows
when its JSON has one (`bench --phases`). Medians of several rounds (bench/median.py) show
their lowest and highest round in brackets, and a second table pairs the two sides round by
round (the median of each round's ratio), which the machine's drift between minutes moves less.

    python3 bench/compare.py DDPM_EXP.json PYTORCH.json [PYTORCH_OTHER_FORM.json ...]
"""
import json
import statistics
import sys


def form(ref):
    """How the PyTorch reference ran, in a few words."""
    parts = [f"Adam {ref.get('adam_impl') or '?'}"]
    if ref.get("channels_last"):
        parts.append("channels-last")
    if ref.get("dtype") == "bf16":
        parts.append("bf16 autocast")
    return ", ".join(parts)


def best(refs, key, smaller_is_better=False):
    """The reference with the best value of `key`."""
    have = [r for r in refs if r.get(key)]
    if not have:
        return None
    pick = min if smaller_is_better else max
    return pick(have, key=lambda r: r[key])


def spread(result, key):
    """ " [lo–hi]" when `result` is a median of rounds, else nothing."""
    lo_hi = result.get(f"{key}_range")
    return f" [{lo_hi[0]:.3f}–{lo_hi[1]:.3f}]" if lo_hi else ""


def paired(ours, ref, key, smaller_is_better):
    """Each round's ddpm-exp / PyTorch ratio for `key` (the two ran minutes apart, so the
    machine's drift between rounds cancels), or None unless both kept every round."""
    a, b = ours.get(f"{key}_rounds"), ref.get(f"{key}_rounds")
    if not a or not b or len(a) != len(b):
        return None
    return [y / x if smaller_is_better else x / y for x, y in zip(a, b)]


def print_paired(ours, refs, rows):
    """Per PyTorch form: the median of the per-round ratios, with their lowest and highest."""
    lines = []
    for name, key, smaller in rows:
        cells = []
        for ref in refs:
            ratios = paired(ours, ref, key, smaller)
            if ratios:
                cells.append(f"{statistics.median(ratios):.2f} [{min(ratios):.2f}–{max(ratios):.2f}]")
        if len(cells) == len(refs):
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if lines:
        print()
        print("Paired by round, ddpm-exp / PyTorch: median of the per-round ratios [lowest–highest]")
        print()
        print("| measure | " + " | ".join(form(r) for r in refs) + " |")
        print("|---|" + "---:|" * len(refs))
        print("\n".join(lines))


def main():
    ours = json.load(open(sys.argv[1]))
    refs = [json.load(open(p)) for p in sys.argv[2:]]
    for ref in refs:
        if ours["params"] != ref["params"]:
            sys.exit(f"different networks: ddpm-exp {ours['params']} parameters, PyTorch {ref['params']}")
    ref0 = refs[0]
    rows = [
        ("training steps/s", "train_steps_per_s", False),
        ("sampling images/s (full chain)", "sample_images_per_s", False),
        (f"{ours['sample_images']} samples x {ours['timesteps']} steps, s", "sample_seconds_full", True),
    ]
    print(f"device {ours['device']} ({ours['backend']}) vs PyTorch {ref0.get('torch')} on {ref0['device']}"
          f" ({ref0.get('gpu_name') or 'CPU'}), {ours['dtype']}, batch {ours['batch']},"
          f" {ours['params']:,} parameters")
    if ours.get("rounds"):
        print(f"medians of {ours['rounds']} interleaved rounds [lowest–highest round]")
    print()
    print("| measure | ddpm-exp | PyTorch eager | ddpm-exp / PyTorch | PyTorch's form |")
    print("|---|---:|---:|---:|---|")
    for name, key, smaller in rows:
        ref = best(refs, key, smaller)
        a = ours.get(key)
        if not a or ref is None:
            continue
        b = ref[key]
        # For the time row, a smaller number is better: report the speed ratio anyway.
        ratio = b / a if smaller else a / b
        print(f"| {name} | {a:.3f}{spread(ours, key)} | {b:.3f}{spread(ref, key)} | {ratio:.2f} | {form(ref)} |")
    print_paired(ours, refs, rows)
    if ours.get("phase_ms"):
        print()
        print("| ddpm-exp phase | ms/step |")
        print("|---|---:|")
        for phase, ms in ours["phase_ms"]:
            print(f"| {phase} | {ms:.2f} |")


if __name__ == "__main__":
    main()
