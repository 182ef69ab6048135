#!/usr/bin/env bash
# How long planning a 1,000-cell sweep takes: every cell resolved from the spec files (read
# once) and checked (`validate`), then the same with the plan written (`ablate --slurm
# --dry-run`: plan.json and 1,000 resolved specs). Hydra's multirun has no planning step to
# compare with (it composes each job's config as the job starts), so this is an absolute
# figure. Usage: bench/sweep_planning.sh [ROUNDS] (default 5); prints each round's seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
cargo build --release --quiet
bin=target/release/ddpm-exp
axes=(--sweep "train.lr=geom(1e-5,1e-2,10)" --sweep "model.dropout=linspace(0,0.45,10)"
      --sweep "train.ema_decay=linspace(0.9,0.999,10)")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Warm-up: the page cache and the binary's first load.
"$bin" validate experiments/eps_simple.yaml "${axes[@]}" >/dev/null
for round in $(seq "$rounds"); do
    start=$(date +%s.%N)
    "$bin" validate experiments/eps_simple.yaml "${axes[@]}"
    mid=$(date +%s.%N)
    rm -rf "$out/plan"
    "$bin" ablate experiments/eps_simple.yaml "${axes[@]}" --out "$out/plan" --slurm --dry-run \
        >/dev/null 2>&1
    end=$(date +%s.%N)
    echo "round $round: validate $(echo "$mid - $start" | bc) s, plan written $(echo "$end - $mid" | bc) s"
done
