#!/usr/bin/env bash
# Runs the benchmarks measuring allocations only and holds each benchmark's p90 allocation
# count to the committed threshold under Benchmarks/Thresholds/ (2% and 2 allocations of
# slack). Exits non-zero when one allocates more, or when a benchmark has no threshold.
#
#   Benchmarks/check-allocations.sh [benchmark options, e.g. --target ScrapeBenchmarks]
#
# Record new thresholds after a change meant to allocate differently (from Benchmarks/):
#   swift package --allow-writing-to-package-directory benchmark thresholds update --metric mallocCountTotal
#
# Why not `benchmark thresholds check`: ordo-one/benchmark 1.38.1 writes threshold files under
# cleaned names (spaces and slashes become underscores) but looks them up under the raw ones,
# so with names like ours it finds none and fails.
set -euo pipefail
cd "$(dirname "$0")"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if ! swift package --allow-writing-to-directory "$out" benchmark --metric mallocCountTotal \
        --format metricP90AbsoluteThresholds --path "$out" --no-progress "$@" >"$out/run.log" 2>&1; then
    tail -40 "$out/run.log" >&2
    echo "check-allocations: the benchmarks failed" >&2
    exit 1
fi
python3 - "$out" Thresholds <<'PY'
import json, os, sys
measured_dir, committed_dir = sys.argv[1], sys.argv[2]
measured = {f: json.load(open(os.path.join(measured_dir, f)))
            for f in os.listdir(measured_dir) if f.endswith(".p90.json")}
failed = 0
for name in sorted(measured):
    path = os.path.join(committed_dir, name)
    now = measured[name].get("mallocCountTotal")
    if not os.path.exists(path):
        print(f"NO THRESHOLD  {name}: {now} allocations (record one)")
        failed += 1
        continue
    limit = json.load(open(path)).get("mallocCountTotal")
    if now is None or limit is None:
        continue
    if now > limit * 1.02 + 2:
        print(f"MORE          {name}: {now} allocations, threshold {limit}")
        failed += 1
    elif now < limit * 0.98 - 2:
        print(f"fewer         {name}: {now} allocations, threshold {limit} (update the thresholds)")
    else:
        print(f"ok            {name}: {now} (threshold {limit})")
print(f"check-allocations: {len(measured)} benchmarks, {failed} over their threshold or without one")
sys.exit(1 if failed else 0)
PY
