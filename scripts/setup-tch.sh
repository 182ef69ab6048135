#!/usr/bin/env bash
# Installs the pinned PyPI torch into .venv-tch (project-local, git-ignored) and builds
# ddpm-exp with the LibTorch backend (`--features tch`) against it. Extra arguments go to
# `cargo build` (e.g. `--bin ddpm-exp`); `scripts/setup-tch.sh test` runs the test suite
# with the feature instead, and `scripts/setup-tch.sh reference` only installs the tests'
# Python reference (torch, torchvision, pytorch-fid, tensorboard) without building anything.
#
# Why PyPI's torch: tch would otherwise download libtorch from pytorch.org at build time,
# which a machine that reaches only the package registries cannot do. Why exactly 2.11.0:
# a binary must run on the libtorch it was built against (DESIGN.md §5), and 2.11.0+cu130
# is the build on the GPU machines we use and the one `pip install torch==2.11.0` gives.
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=2.11.0
TORCHVISION_VERSION=0.26.0 # the release built against torch 2.11.0
PYTORCH_FID_VERSION=0.3.0
TENSORBOARD_VERSION=2.21.0
VENV=.venv-tch

installed() {
    "$VENV/bin/python" - "$TORCH_VERSION" <<'PY' 2>/dev/null
import sys, importlib.metadata as m
sys.exit(m.version("torch").split("+")[0] != sys.argv[1])
PY
}

if ! installed; then
    echo "setup-tch: installing torch==$TORCH_VERSION (CUDA 13 build, ~2.7 GB) into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "torch==$TORCH_VERSION"
fi

# A fixed path for .cargo/config.toml's LIBTORCH, whatever the Python minor version.
torch_dir=$("$VENV/bin/python" -c 'import importlib.util, os; print(os.path.dirname(importlib.util.find_spec("torch").origin))')
ln -sfn "$torch_dir" "$VENV/libtorch"

if [ "${1:-}" = test ] || [ "${1:-}" = reference ]; then
    mode=$1
    shift
    # tests/it/inception_fid.rs compares our Inception-v3 with pytorch-fid's own code.
    if ! "$VENV/bin/python" -c 'import pytorch_fid, torchvision' 2>/dev/null; then
        echo "setup-tch: installing pytorch-fid==$PYTORCH_FID_VERSION, torchvision==$TORCHVISION_VERSION (test reference)" >&2
        "$VENV/bin/pip" install --quiet --disable-pip-version-check \
            "torchvision==$TORCHVISION_VERSION" "pytorch-fid==$PYTORCH_FID_VERSION"
    fi
    # tests/it/tensorboard.rs reads the event files back with TensorBoard's own reader.
    if ! "$VENV/bin/python" -c 'import tensorboard' 2>/dev/null; then
        echo "setup-tch: installing tensorboard==$TENSORBOARD_VERSION (test reference)" >&2
        "$VENV/bin/pip" install --quiet --disable-pip-version-check "tensorboard==$TENSORBOARD_VERSION"
    fi
    [ "$mode" = reference ] && exit 0
    exec cargo test --release --features tch "$@"
fi
cargo build --release --features tch "$@"
echo "setup-tch: built target/release/ddpm-exp with LibTorch $TORCH_VERSION ($VENV/libtorch)" >&2
