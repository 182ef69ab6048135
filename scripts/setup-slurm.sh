#!/usr/bin/env bash
# Slurm for the cluster tests (tests/it/slurm_grid.rs starts a one-node cluster of its own
# from these programs): Debian's slurm-wlm (slurmctld, slurmd, the client commands) and
# munge. Installed with apt-get when missing and this is root (CI); otherwise it says what to
# run, and those tests skip (they fail under CI).
set -euo pipefail
missing=()
for program in sbatch slurmctld slurmd munged; do
    command -v "$program" > /dev/null || [ -x "/usr/sbin/$program" ] || missing+=("$program")
done
[ ${#missing[@]} = 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get > /dev/null; then
    echo "note: ${missing[*]} missing; as root: apt-get install slurm-wlm munge" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# Installing starts no daemon here (no systemd); the tests start their own.
if apt-get install -y -qq slurm-wlm munge > /dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq slurm-wlm munge > /dev/null; }; then
    echo "installed slurm-wlm and munge" >&2
else
    echo "warning: apt-get could not install slurm-wlm and munge" >&2
fi
