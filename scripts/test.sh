#!/usr/bin/env bash
# The whole test suite, as CI runs it: every test on the default backend (burn-flex), built
# exactly as the main job builds it, so `cargo run --release` afterwards compiles nothing;
# then the backend-generic tests again on LibTorch's CPU device, built with the `tch` feature
# (which changes only Burn's own crates and the LibTorch ones). The first run installs the
# pinned torch and the Inception test's reference into .venv-tch (scripts/setup-tch.sh,
# ~2.7 GB from PyPI). Extra arguments are cargo options (`-j 1`, `--no-fail-fast`) for both
# `cargo test` calls. scripts/setup-data.sh installs Debian's Fashion-MNIST (the data tests
# find it there); scripts/setup-slurm.sh installs Slurm and munge (the cluster tests start a
# one-node cluster of their own); scripts/setup-just.sh installs `just` for the justfile
# test (`cargo install --locked just`). To run only some tests, call
# `cargo test --release --test it -- FILTER`.
set -euo pipefail
cd "$(dirname "$0")/.."

# The modules of tests/it that run on any device (DDPM_TEST_DEVICE picks it), and the
# LibTorch kernels' own tests (built only with the `tch` feature).
BACKEND_GENERIC=(device_cli:: cli_run:: interrupt_resume:: model_shape:: objective_grid::
    bound_math:: report_cli:: quality_eval:: inception_fid:: sample_cli:: libtorch_kernels:: flat_update::)

scripts/setup-data.sh
scripts/setup-slurm.sh
scripts/setup-just.sh
scripts/setup-tch.sh reference
cargo test --release "$@"
DDPM_TEST_DEVICE=libtorch-cpu scripts/setup-tch.sh test "$@" --test it -- "${BACKEND_GENERIC[@]}"
