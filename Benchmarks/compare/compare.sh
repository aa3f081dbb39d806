#!/usr/bin/env bash
# Sextant side by side with Prometheus 2.42 and VictoriaMetrics 1.79 (Debian packages,
# installed when missing): storage, queries, ingestion, startup and remote write, one system after the other
# on loopback. Writes Benchmarks/compare/results/DATE.md and .json and prints the table.
# Usage: Benchmarks/compare/compare.sh [--targets 100] [--hours 6] [--reps 10]
#        [--dashboard-clients 20] [--dashboard-seconds 60] [--fleet-targets 200] [--fleet-series 1000]
#        [--fleet-seconds 60] [--skip storage,ingestion,remote-write]
set -euo pipefail
cd "$(dirname "$0")/../.."
missing=()
command -v prometheus >/dev/null || missing+=(prometheus)
command -v promtool >/dev/null || missing+=(prometheus)
command -v victoria-metrics >/dev/null || missing+=(victoria-metrics)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
swift build -c release --product sextant >/dev/null
sextant=$(swift build -c release --show-bin-path)/sextant
work=${COMPARE_WORKDIR:-$(mktemp -d)}
trap 'pkill -P $$ 2>/dev/null || true; [ -n "${COMPARE_WORKDIR:-}" ] || rm -rf "$work"' EXIT
python3 Benchmarks/compare/compare.py --sextant "$sextant" --workdir "$work" \
  --command "Benchmarks/compare/compare.sh $*" "$@"
