# Convenience recipes; each only calls the binary or cargo (no logic of its own).

# Train one spec (default: the paper's best cell on the embedded digits).
run spec="experiments/eps_simple.yaml" *args="":
    cargo run --release -- run {{spec}} {{args}}

# Continue a run from its newest checkpoint.
resume run_dir:
    cargo run --release -- run --resume {{run_dir}}

# Check every shipped spec.
validate:
    cargo run --release -- validate experiments/*.yaml

# Per-t schedule table of a spec.
schedule spec="experiments/eps_simple.yaml" out="results/schedule.csv":
    cargo run --release -- schedule {{spec}} --out {{out}}

# The test suite (what CI runs).
test:
    bash scripts/test.sh

# Every Table 2 cell × seed, then a summary table: `just ablate`, `just ablate mnist 0,1,2`,
# on a GPU (after `just setup-gpu`): `just ablate cifar10 0 cuda`.
ablate profile="digits" seeds="0" device="cpu" *args="":
    {{ if device == "cpu" { "cargo run --release --" } else { "cargo run --release --features tch --" } }} ablate --profile {{profile}} --seeds {{seeds}} --device {{device}} {{args}}

# A sweep (experiments/sweeps/*.yaml) into results/sweep-NAME, then its summary: `just sweep`,
# `just sweep experiments/sweeps/weighting.yaml --seeds 0`, or a spec with axes:
# `just sweep experiments/eps_simple.yaml --sweep 'train.lr=geom(1e-4,1e-3,4)'`. Arguments go
# to `ablate` as typed (quote values with brackets or parentheses).
[positional-arguments]
sweep file="experiments/sweeps/weighting.yaml" *args:
    cargo run --release -- ablate "$@"

# Install the pinned PyPI torch into .venv-tch and build the LibTorch (GPU) backend against it.
setup-gpu:
    scripts/setup-tch.sh

# ddpm-exp vs the PyTorch eager reference on one device: `just bench`, `just bench cuda cifar10 bf16`.
bench device="libtorch-cpu" profile="digits" dtype="fp32" *args="":
    {{ if device == "cpu" { "cargo build --release" } else { "scripts/setup-tch.sh" } }}
    bench/run.sh --device {{device}} --profile {{profile}} --dtype {{dtype}} {{args}}

# Test-set NLL (the full bound) of a run's newest checkpoint.
eval run_dir:
    cargo run --release -- eval {{run_dir}} --nll

# Figures and tables for a paper from run folders: `just report`, `just report results/ablate-mnist`.
report results="results/ablate-digits" *args="":
    cargo run --release -- report {{results}} {{args}}
