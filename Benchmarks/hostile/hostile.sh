#!/usr/bin/env bash
# The hostile load of issue 14 against a release Sextant and against Prometheus, on the same
# data (2,000 series over 6 h at 60 s), with the same limits (4 query slots, 5 s timeout).
# Prints one JSON line per system (see load.py).
#
#   Benchmarks/hostile/hostile.sh [seconds] [clients]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-20}
clients=${2:-16}
command -v prometheus >/dev/null || { sudo apt-get install -y -q prometheus >/dev/null; }
[ -x .build/release/sextant ] || swift build -c release --product sextant
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
end=$(date +%s)
python3 Benchmarks/hostile/gendata.py --end "$end" --out "$work"

wait_ready() {
    for _ in $(seq 1 300); do curl -fs "$1/-/ready" >/dev/null && return 0; sleep 0.2; done
    echo "not ready: $1" >&2; return 1
}

.build/release/sextant serve --storage.tsdb.path "$work/sextant" --web.listen-address 127.0.0.1:19090 \
    --query.max-concurrency 4 --query.timeout 5s --log.level warn &
wait_ready http://127.0.0.1:19090
curl -fs --data-binary @"$work/import.txt" http://127.0.0.1:19090/api/v1/import/prometheus >/dev/null
echo -n "sextant: "
python3 Benchmarks/hostile/load.py --url http://127.0.0.1:19090 --seconds "$seconds" --clients "$clients" --end "$end"
kill %1; wait %1 2>/dev/null || true

promtool tsdb create-blocks-from openmetrics "$work/data.om" "$work/prometheus" >/dev/null
printf 'global:\n  scrape_interval: 15s\n' > "$work/prometheus.yml"
prometheus --config.file "$work/prometheus.yml" --storage.tsdb.path "$work/prometheus" \
    --web.listen-address 127.0.0.1:19091 --query.max-concurrency 4 --query.timeout 5s --log.level warn 2>/dev/null &
wait_ready http://127.0.0.1:19091
echo -n "prometheus: "
python3 Benchmarks/hostile/load.py --url http://127.0.0.1:19091 --seconds "$seconds" --clients "$clients" --end "$end"
