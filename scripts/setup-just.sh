#!/usr/bin/env bash
# `just`, the command runner of the justfile's recipes (`just ablate`, `just sweep`): not in
# Debian's lists here, so from crates.io with `cargo install --locked just` (~1 min on 2
# cores) when neither PATH nor ~/.cargo/bin has it. The justfile test (tests/it/justfile.rs)
# finds it in either place.
set -euo pipefail
command -v just > /dev/null && exit 0
[ -x "${CARGO_HOME:-$HOME/.cargo}/bin/just" ] && exit 0
echo "installing just (cargo install --locked just)" >&2
cargo install --locked --quiet just
