#!/usr/bin/env python3
"""Merges the bench JSONs of one side's repeated rounds (`bench/run.sh --rounds N`) into one:
the median of each timed measure and of each phase, with the measure's lowest and highest
round kept beside it as `<key>_range` and every round's value, in order, as `<key>_rounds`
(bench/compare.py pairs them with the other side's). Everything else is taken from the
first round.

These CPUs drift 10–20% from minute to minute, so one back-to-back pair can favour either side;
rounds interleave the two sides and the medians are what bench/compare.py compares.

    python3 bench/median.py OUT.json ROUND1.json ROUND2.json ...
"""
import json
import statistics
import sys

MEASURES = ["train_steps_per_s", "train_images_per_s", "sample_images_per_s", "sample_seconds_full"]


def merge(rounds):
    merged = dict(rounds[0])
    merged["rounds"] = len(rounds)
    for key in MEASURES:
        values = [r[key] for r in rounds if r.get(key)]
        if values:
            merged[key] = statistics.median(values)
            merged[f"{key}_range"] = [min(values), max(values)]
            if len(values) == len(rounds):
                merged[f"{key}_rounds"] = values  # in round order, for paired ratios
    if rounds[0].get("phase_ms"):
        names = [name for name, _ in rounds[0]["phase_ms"]]
        by_name = [dict(r["phase_ms"]) for r in rounds]
        merged["phase_ms"] = [[n, statistics.median(p[n] for p in by_name if n in p)] for n in names]
    return merged


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: bench/median.py OUT.json ROUND.json [ROUND.json ...]")
    rounds = [json.load(open(path)) for path in sys.argv[2:]]
    with open(sys.argv[1], "w") as out:
        json.dump(merge(rounds), out, indent=2)


if __name__ == "__main__":
    main()
