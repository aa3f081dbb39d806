#!/usr/bin/env bash
# Scrape ingestion side by side: a fleet of TARGETS x SERIES scraped every second by
# Prometheus 2.42 (Debian package) and by Sextant with the same configuration, one after
# the other. Reports samples/s, CPU seconds per million samples and peak RSS.
# Usage: Benchmarks/compare/scrape-fleet.sh [targets=200] [series=1000] [seconds=60]
set -euo pipefail
cd "$(dirname "$0")/../.."
targets=${1:-200}
series=${2:-1000}
seconds=${3:-60}
command -v prometheus >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus; }
swift build -c release --product sextant >/dev/null
sextant=$(swift build -c release --show-bin-path)/sextant
work=$(mktemp -d)
base=30000
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

python3 Benchmarks/compare/fleet.py $base "$targets" "$series" > "$work/fleet.log" &
until grep -q ready "$work/fleet.log" 2>/dev/null; do sleep 0.2; done

{
  echo "global: {scrape_interval: 1s, scrape_timeout: 1s}"
  echo "scrape_configs:"
  echo "  - job_name: fleet"
  echo "    static_configs:"
  echo "      - targets:"
  for i in $(seq 0 $((targets - 1))); do echo "          - 127.0.0.1:$((base + i))"; done
} > "$work/prometheus.yml"

# cpu_seconds PID: user+system CPU time of a process.
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }
peak_rss_mb() { awk '/VmHWM/ {print $2 / 1024}' "/proc/$1/status"; }
counter() { curl -s "$1" | awk -v m="$2" 'index($1, m) == 1 && (length($1) == length(m) || substr($1, length(m) + 1, 1) == "{") {s += $2} END {print s + 0}'; }

run() { # name, metrics url, counter name, command...
  local name=$1 url=$2 metric=$3; shift 3
  "$@" > "$work/$name.log" 2>&1 &
  local pid=$!
  sleep 15                                   # start-up and the first scrapes
  local c0 s0 c1 s1
  c0=$(cpu_seconds $pid); s0=$(counter "$url" "$metric")
  sleep "$seconds"
  c1=$(cpu_seconds $pid); s1=$(counter "$url" "$metric")
  local rss; rss=$(peak_rss_mb $pid)
  kill $pid; wait $pid 2>/dev/null || true
  python3 - "$name" "$c0" "$c1" "$s0" "$s1" "$seconds" "$rss" <<'PY'
import sys
name, c0, c1, s0, s1, secs, rss = sys.argv[1], *map(float, sys.argv[2:])
samples = s1 - s0
print(f"{name}: {samples/secs:,.0f} samples/s, {(c1-c0)/(samples/1e6):.2f} CPU s per M samples, "
      f"{(c1-c0)/secs*100:.0f}% of a core, peak RSS {rss:.0f} MB")
PY
}

echo "fleet: $targets targets x $series series at 1 s for ${seconds}s each, $(nproc) cores"
run prometheus "http://127.0.0.1:19091/metrics" prometheus_tsdb_head_samples_appended_total \
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prom" \
  --web.listen-address=127.0.0.1:19091 --log.level=warn
run sextant "http://127.0.0.1:19092/metrics" sextant_tsdb_head_samples_appended_total \
  "$sextant" serve --config.file "$work/prometheus.yml" --storage.tsdb.path "$work/sextant" \
  --web.listen-address 127.0.0.1:19092 --log.level warn
