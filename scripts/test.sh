#!/usr/bin/env bash
# The whole test suite, as CI runs it: every test on the default backend (burn-flex), then the
# backend-generic tests again on LibTorch's CPU device. One build serves both: the `tch`
# feature only adds a backend, so the default-device tests are unchanged by it. The first run
# installs the pinned torch into .venv-tch (scripts/setup-tch.sh, ~2.7 GB from PyPI).
# Plain `cargo test --release` runs the default-backend part without any torch.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-tch.sh test "$@"
DDPM_TEST_DEVICE=libtorch-cpu scripts/setup-tch.sh test \
    --test device_cli --test cli_run --test interrupt_resume --test model_shape \
    --test objective_grid --test bound_math --test report_cli --test quality_eval \
    --test inception_fid "$@"
