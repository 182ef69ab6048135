#!/usr/bin/env bash
# The data the tests read from the system: Debian's Fashion-MNIST package, so the tests check
# that a run finds it there with no download. Installed with apt-get when missing and this is
# root (CI); otherwise it says what to run, and those tests skip (they fail under CI).
set -euo pipefail
fashion=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
[ -f "$fashion" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get > /dev/null; then
    echo "note: $fashion missing; as root: apt-get install dataset-fashion-mnist" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# No network or no such package: say so and go on; the tests that need it fail under CI.
if apt-get install -y -qq dataset-fashion-mnist > /dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist > /dev/null; }; then
    echo "installed dataset-fashion-mnist" >&2
else
    echo "warning: apt-get could not install dataset-fashion-mnist" >&2
fi
