#!/bin/bash
# Benchmarks several commits against each other on one machine in one sitting: each commit is
# exported and built in its own folder, then run in the order given and again in reverse, so that
# a drift of the machine's load falls on every commit alike.
#   bash bench/pairs.sh RESULTS_DIR SCENARIOS REV...
#   e.g. bash bench/pairs.sh /tmp/pairs xmpp-to-sms,sms-to-xmpp 7da8a91 HEAD
# A commit whose bench lacks a scenario (lmtp-to-xmpp before it existed) runs the ones it has.
# PAIRS_ARGS adds options to every run, e.g. PAIRS_ARGS="--store postgresql".
set -euo pipefail
# The results folder as an absolute path: each run works in its own export, deleted at the end.
results=$(realpath -m "$1") scenarios=$2
shift 2
repo=$(git rev-parse --show-toplevel)
work=$(mktemp -d /tmp/switchboard-pairs-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$results"
for rev in "$@"; do
  dir="$work/$rev"
  mkdir -p "$dir"
  git -C "$repo" archive "$rev" | tar -x -C "$dir"
  ln -s "$repo/node_modules" "$dir/node_modules"
  (cd "$dir" && npx tsc -p .)
done
run() {
  local rev=$1 round=$2 dir="$work/$1" have=()
  IFS=, read -ra wanted <<<"$scenarios"
  for scenario in "${wanted[@]}"; do
    if [[ -f "$dir/dist/bench/scenarios/$scenario.js" ]]; then have+=("$scenario"); fi
  done
  echo "=== $rev ($(git -C "$repo" rev-parse --short "$rev")) round $round, load $(cut -d' ' -f1-3 /proc/loadavg)"
  # run.js exits 1 when a target is missed: that is a figure here, not a failure of the script.
  (cd "$dir" && node dist/bench/run.js --count 2000 --runs 1 --only "$(IFS=,; echo "${have[*]}")" --results "$results/$rev-$round" ${PAIRS_ARGS:-}) |
    grep -aE "^(XMPP|SMS|e-mail|LMTP)|failed" || true
}
for rev in "$@"; do run "$rev" 1; done
for ((i = $#; i >= 1; i--)); do run "${!i}" 2; done
