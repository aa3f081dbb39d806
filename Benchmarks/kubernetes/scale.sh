#!/usr/bin/env bash
# Kubernetes discovery at scale: the release binary discovers 10,000 pods from a loopback API
# server stand-in (Benchmarks/kubernetes/fakeapi.py) that changes 100 of them per second, while
# probe pods come and go; prints discovery's CPU and memory and the time from a pod event to
# its target appearing in or leaving /api/v1/targets.
#
#   Benchmarks/kubernetes/scale.sh [pods] [events-per-second] [seconds]
set -euo pipefail
cd "$(dirname "$0")/../.."
pods=${1:-10000}
rate=${2:-100}
seconds=${3:-60}
api_port=18080
web_port=19090
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

swift build -c release --product sextant >/dev/null
bin=$(swift build -c release --show-bin-path)/sextant

cat >"$work/config.yml" <<YAML
global: {scrape_interval: 1m, scrape_timeout: 10s}
scrape_configs:
  - job_name: pods
    kubernetes_sd_configs:
      - role: pod
        api_server: http://127.0.0.1:$api_port
    relabel_configs:
      - {source_labels: [__meta_kubernetes_pod_label_probe], regex: "true", action: keep}
      - {source_labels: [__meta_kubernetes_pod_name], target_label: pod}
      - {action: labelmap, regex: __meta_kubernetes_pod_label_(.+)}
YAML

python3 Benchmarks/kubernetes/fakeapi.py --port $api_port --pods "$pods" --rate "$rate" --seconds "$seconds" \
    --warmup 25 --sextant "http://127.0.0.1:$web_port" --out "$work/result.json" &
api=$!
sleep 3
"$bin" serve --config.file "$work/config.yml" --storage.tsdb.path "$work/data" \
    --web.listen-address "127.0.0.1:$web_port" >"$work/sextant.log" 2>&1 &
pid=$!

cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
sleep 20
start_cpu=$(cpu); start_rss=$(rss); start_time=$(date +%s.%N)
wait $api
end_cpu=$(cpu); end_rss=$(rss); end_time=$(date +%s.%N)
ticks=$(getconf CLK_TCK)
python3 - "$work/result.json" "$start_cpu" "$end_cpu" "$ticks" "$start_rss" "$end_rss" "$start_time" "$end_time" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
cpu = (int(sys.argv[3]) - int(sys.argv[2])) / int(sys.argv[4])
window = float(sys.argv[8]) - float(sys.argv[7])
r["window_seconds"] = round(window, 1)
r["sextant_cpu_seconds"] = round(cpu, 2)
r["sextant_cpu_fraction"] = round(cpu / window, 3)
r["sextant_rss_mib_after_list"] = round(int(sys.argv[5]) / 1024, 1)
r["sextant_rss_mib_end"] = round(int(sys.argv[6]) / 1024, 1)
print(json.dumps(r, indent=1))
PY
