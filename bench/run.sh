#!/usr/bin/env bash
# ddpm-exp against the PyTorch eager reference (bench/torch_reference.py): the same UNet
# (parameter count checked equal), batch, device and training step, one after the other,
# then the ratio. Results are kept in bench/RESULTS.md.
#
#   bench/run.sh [--device cuda|cuda:N|libtorch-cpu|cpu] [--profile cifar10|digits]
#                [--dtype fp32|bf16] [--batch N] [--warmup N] [--train-steps N]
#                [--sample-images N] [--sample-steps N] [--phases N] [--torch-best]
#                [--out DIR]
#
# --phases N: ddpm-exp then times N more training steps phase by phase (its table follows).
# --torch-best: the reference runs in three forms back to back: as written (Adam as torch
# picks it), with fused Adam, and channels-last with fused Adam; each measure is compared
# with the fastest. With --dtype bf16 every form runs under torch.autocast.
#
# DDPM_EXP names the binary (default target/release/ddpm-exp; a `cuda` or `libtorch-cpu`
# run needs one built by scripts/setup-tch.sh), PYTHON a Python with torch (default
# .venv-tch/bin/python, else python3).
set -euo pipefail
cd "$(dirname "$0")/.."
asked="$*"

device=libtorch-cpu profile=digits dtype=fp32 batch="" warmup=5 train_steps=20
sample_images=64 sample_steps=1000 out=bench/out spec=experiments/eps_simple.yaml
phases=0 torch_best=no
while [ $# -gt 0 ]; do
    case "$1" in
        --torch-best) torch_best=yes; shift; continue ;;
        --phases) phases=$2 ;;
        --device) device=$2 ;;
        --profile) profile=$2 ;;
        --dtype) dtype=$2 ;;
        --batch) batch=$2 ;;
        --warmup) warmup=$2 ;;
        --train-steps) train_steps=$2 ;;
        --sample-images) sample_images=$2 ;;
        --sample-steps) sample_steps=$2 ;;
        --out) out=$2 ;;
        *) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift 2
done
bin=${DDPM_EXP:-target/release/ddpm-exp}
if [ -z "${PYTHON:-}" ]; then
    if [ -x .venv-tch/bin/python ]; then PYTHON=.venv-tch/bin/python; else PYTHON=python3; fi
fi
case "$device" in
    cuda*) torch_device=$device ;;
    *) torch_device=cpu ;;
esac

mkdir -p "$out"
tag="${profile}_${device//:/}_${dtype}"
ours="$out/ddpm-exp_$tag.json"
ref="$out/pytorch_$tag.json"
"$bin" bench "$spec" --profile "$profile" --device "$device" --dtype "$dtype" \
    ${batch:+--batch "$batch"} --warmup "$warmup" --train-steps "$train_steps" \
    --sample-images "$sample_images" --sample-steps "$sample_steps" --phases "$phases" \
    --json "$ours" >/dev/null
reference() { # JSON_PATH [EXTRA_ARGS...]
    local json=$1
    shift
    "$PYTHON" bench/torch_reference.py --like "$ours" --device "$torch_device" --dtype "$dtype" \
        --warmup "$warmup" --train-steps "$train_steps" \
        --sample-images "$sample_images" --sample-steps "$sample_steps" --json "$json" "$@"
}
refs=("$ref")
reference "$ref"
if [ "$torch_best" = yes ]; then
    refs+=("${ref%.json}_fused.json" "${ref%.json}_channels_last_fused.json")
    reference "${refs[1]}" --adam-impl fused
    reference "${refs[2]}" --channels-last --adam-impl fused
fi
echo "$(date -u +%F) on $(hostname): bench/run.sh $asked"
"$PYTHON" bench/compare.py "$ours" "${refs[@]}"
