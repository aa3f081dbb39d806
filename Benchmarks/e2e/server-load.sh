#!/usr/bin/env bash
# End-to-end load on a release build of `sextant serve` over loopback:
#   1. import throughput over HTTP (POST /api/v1/import/prometheus), samples/s;
#   2. query_range requests per second over 1000 series (wrk).
# Usage: Benchmarks/e2e/server-load.sh [series] [hours]
set -euo pipefail
cd "$(dirname "$0")/../.."
series=${1:-1000}
hours=${2:-6}
command -v wrk >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }

swift build -c release --product sextant >/dev/null
bin=$(swift build -c release --show-bin-path)/sextant
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT

# Scrape-like data: counters over `hours` at 15 s, ending now, `series` series in 10 jobs.
end=$(( $(date +%s) * 1000 ))
python3 - "$series" "$hours" "$end" > "$work/body.txt" <<'PY'
import sys, random
series, hours, end = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
steps = hours * 240
start = end - steps * 15000
rnd = random.Random(7)
out = sys.stdout
for s in range(series):
    v = rnd.randrange(1000)
    name = f'http_requests_total{{job="job{s % 10}",instance="host{s}:9100",code="{200 + (s % 3) * 100}"}}'
    lines = []
    for i in range(steps):
        v += rnd.randrange(5)
        lines.append(f"{name} {v} {start + i * 15000 + rnd.randrange(-50, 51)}")
    out.write("\n".join(lines) + "\n")
PY
samples=$(wc -l < "$work/body.txt")
bytes=$(stat -c %s "$work/body.txt")

"$bin" serve --storage.tsdb.path "$work/data" --web.listen-address "127.0.0.1:$port" --log.level warn &
pid=$!
until curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null; do sleep 0.1; done

t0=$(date +%s.%N)
curl -sf -X POST --data-binary @"$work/body.txt" "http://127.0.0.1:$port/api/v1/import/prometheus" > "$work/import.json"
t1=$(date +%s.%N)
python3 - "$samples" "$bytes" "$t0" "$t1" "$work/import.json" <<'PY'
import sys, json
samples, size, t0, t1 = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
answer = json.load(open(sys.argv[5]))["data"]
secs = t1 - t0
print(f"import: {answer['accepted']} samples accepted, {answer['rejected']} rejected, {size/1e6:.1f} MB in {secs:.2f} s: "
      f"{answer['accepted']/secs/1e6:.2f} M samples/s, {size/secs/1e6:.1f} MB/s")
PY

query='sum by (job) (rate(http_requests_total[5m]))'
qs=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$query")
start_s=$(( end / 1000 - 3600 ))
url="http://127.0.0.1:$port/api/v1/query_range?query=$qs&start=$start_s&end=$(( end / 1000 ))&step=15"
curl -sf "$url" | python3 -c 'import sys,json; d=json.load(sys.stdin)["data"]["result"]; print("query_range: %d result series x %d points over %s input series" % (len(d), len(d[0]["values"]), sys.argv[1]))' "$series"
wrk -t2 -c4 -d10s "$url" | sed -n 's/^Requests\/sec: */query_range requests\/s: /p; s/^ *Latency */query_range latency (avg, stdev, max): /p'
