#!/usr/bin/env bash
# ddpm-exp against the PyTorch eager reference (bench/torch_reference.py): the same UNet
# (parameter count checked equal), batch, device and training step, one after the other,
# then the ratio. Results are kept in bench/RESULTS.md.
#
#   bench/run.sh [--device cuda|cuda:N|libtorch-cpu|cpu] [--profile cifar10|digits]
#                [--dtype fp32|bf16] [--batch N] [--warmup N] [--train-steps N]
#                [--sample-images N] [--sample-steps N] [--phases N] [--torch-best]
#                [--rounds N] [--out DIR]
#
# --phases N: ddpm-exp then times N more training steps phase by phase (its table follows).
# --torch-best: the reference runs in three forms back to back: as written (Adam as torch
# picks it), with fused Adam, and channels-last with fused Adam; each measure is compared
# with the fastest. With --dtype bf16 every form runs under torch.autocast.
# --rounds N: the whole sequence (ddpm-exp, then each PyTorch form) runs N times, interleaved,
# and each side's median is compared (bench/median.py; the table shows each median's range).
# On the 2-core CPUs one pair can land 10–20% either way; use 3 or more there.
#
# DDPM_EXP names the binary (default target/release/ddpm-exp; a `cuda` or `libtorch-cpu`
# run needs one built by scripts/setup-tch.sh), PYTHON a Python with torch (default
# .venv-tch/bin/python, else python3).
set -euo pipefail
cd "$(dirname "$0")/.."
asked="$*"

device=libtorch-cpu profile=digits dtype=fp32 batch="" warmup=5 train_steps=20
sample_images=64 sample_steps=1000 out=bench/out spec=experiments/eps_simple.yaml
phases=0 torch_best=no rounds=1
while [ $# -gt 0 ]; do
    case "$1" in
        --torch-best) torch_best=yes; shift; continue ;;
        --phases) phases=$2 ;;
        --rounds) rounds=$2 ;;
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
# One round: ddpm-exp, then each PyTorch form; ROUND_SUFFIX names the round's files.
forms=("") form_args=("")
if [ "$torch_best" = yes ]; then
    forms+=("_fused" "_channels_last_fused")
    form_args+=("--adam-impl fused" "--channels-last --adam-impl fused")
fi
one_round() { # ROUND_SUFFIX
    local mine="${ours%.json}$1.json"
    "$bin" bench "$spec" --profile "$profile" --device "$device" --dtype "$dtype" \
        ${batch:+--batch "$batch"} --warmup "$warmup" --train-steps "$train_steps" \
        --sample-images "$sample_images" --sample-steps "$sample_steps" --phases "$phases" \
        --json "$mine" >/dev/null
    for i in "${!forms[@]}"; do
        # shellcheck disable=SC2086 # form_args holds several words on purpose
        "$PYTHON" bench/torch_reference.py --like "$mine" --device "$torch_device" \
            --dtype "$dtype" --warmup "$warmup" --train-steps "$train_steps" \
            --sample-images "$sample_images" --sample-steps "$sample_steps" \
            --json "${ref%.json}${forms[$i]}$1.json" ${form_args[$i]}
    done
}
refs=()
for i in "${!forms[@]}"; do refs+=("${ref%.json}${forms[$i]}.json"); done
if [ "$rounds" -le 1 ]; then
    one_round ""
else
    for r in $(seq "$rounds"); do one_round "_r$r"; done
    for path in "$ours" "${refs[@]}"; do
        "$PYTHON" bench/median.py "$path" $(for r in $(seq "$rounds"); do echo "${path%.json}_r$r.json"; done)
    done
fi
echo "$(date -u +%F) on $(hostname): bench/run.sh $asked"
"$PYTHON" bench/compare.py "$ours" "${refs[@]}"
