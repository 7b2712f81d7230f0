#!/usr/bin/env bash
# Determinism proof: runs the README's test command N times (default 10), each on a fresh clone
# of this repository's HEAD, with a CPU-bound process beside the whole loop, as a busy shared CI
# runner would be. One line per run (exit status, seconds, load average, the runner's last
# verdict) goes to stdout; each run's full output to $OUT/runN.log (default a new temp dir).
#
#   bash packages/tools/scripts/loaded-runs.sh 10
set -u
n=${1:-10}
repo=$(cd "$(dirname "$0")/../../.." && pwd)
out=${OUT:-$(mktemp -d)}
cmd=$(awk '/<!-- test-command -->/{getline; getline; print; exit}' "$repo/README.md")
[ -n "$cmd" ] || { echo "no test command in README.md" >&2; exit 2; }
node -e 'for(;;){}' &
hog=$!
trap 'kill $hog 2>/dev/null' EXIT
failed=0
for i in $(seq 1 "$n"); do
  dir=$(mktemp -d)
  git clone -q "$repo" "$dir"
  start=$(date +%s)
  (cd "$dir" && bash -c "$cmd") >"$out/run$i.log" 2>&1
  rc=$?
  [ "$rc" -eq 0 ] || failed=$((failed + 1))
  verdict=$(grep -E "all checks passed|failures? \(" "$out/run$i.log" | tail -1)
  echo "run $i: exit $rc, $(($(date +%s) - start)) s, load $(cut -d' ' -f1-3 /proc/loadavg), $verdict"
  rm -rf "$dir"
done
echo "$((n - failed)) of $n passed; logs in $out"
[ "$failed" -eq 0 ]
