#!/usr/bin/env python3
"""Scrape-like data for the storage and query comparison: TARGETS targets x 100 series
(40 request counters, a 2-handler histogram of 11 buckets with _sum and _count, 30 gauges,
4 constants) sampled every 15 s for HOURS hours, ending at END (Unix seconds). Every series
of a target shares its scrape's timestamp (a per-target offset plus up to 25 ms of jitter),
as real scrapes do.

Writes OUT.om (OpenMetrics, seconds, no TYPE lines, "# EOF" last: for promtool and
sextant import) and OUT.prom (text format, milliseconds: for VictoriaMetrics' import API),
both in time order.
Usage: gendata.py OUT TARGETS HOURS END
"""
import random, sys

out, targets, hours, end = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rng = random.Random(42)
BUCKETS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"]

def target_series(i):
    inst = f'instance="host-{i:03d}:9100",job="fleet"'
    s = []  # (series text, kind, state)
    for h in range(10):
        for code in ("200", "404", "500", "503"):
            s.append([f'http_requests_total{{{inst},handler="/api/h{h}",code="{code}"}}', "counter",
                      float(rng.randrange(100000)), rng.randrange(1, 50) if code == "200" else rng.randrange(0, 3)])
    for handler in ("/api/h0", "/api/h1"):
        base = float(rng.randrange(10000))
        for k, le in enumerate(BUCKETS):
            s.append([f'http_request_duration_seconds_bucket{{{inst},handler="{handler}",le="{le}"}}', "bucket",
                      base * (k + 1), 3 * (k + 1)])
        s.append([f'http_request_duration_seconds_sum{{{inst},handler="{handler}"}}', "sum", base * 0.8, 0])
        s.append([f'http_request_duration_seconds_count{{{inst},handler="{handler}"}}', "counter", base * 11, 33])
    s.append([f'process_resident_memory_bytes{{{inst}}}', "bytes", float(rng.randrange(100, 900) * 1 << 20), 0])
    for c in range(8):
        s.append([f'node_cpu_temperature_celsius{{{inst},cpu="{c}"}}', "gauge", 40 + rng.random() * 20, 0])
    for q in range(21):
        s.append([f'queue_length{{{inst},queue="q{q}"}}', "queue", float(rng.randrange(100)), 0])
    s.append([f'build_info{{{inst},version="1.{i % 7}.0",revision="abc{i % 13}"}}', "const", 1.0, 0])
    s.append([f'config_last_reload_successful{{{inst}}}', "const", 1.0, 0])
    for mp in ("/", "/data"):
        s.append([f'node_filesystem_size_bytes{{{inst},mountpoint="{mp}"}}', "const", float(rng.randrange(10, 500) * 1 << 30), 0])
    assert len(s) == 100
    return s

def step(x):
    kind, v = x[1], x[2]
    if kind in ("counter", "bucket"):
        v += rng.randrange(0, x[3] + 1)
    elif kind == "sum":
        v = round(v + rng.random() * 5, 3)
    elif kind == "gauge":
        v = round(v + rng.uniform(-0.5, 0.5), 2)
    elif kind == "queue":
        v = max(0.0, v + rng.randrange(-3, 4))
    elif kind == "bytes":
        v = max(1 << 20, v + rng.randrange(-64, 65) * 4096)
    x[2] = v
    return v

def fmt(v):
    return str(int(v)) if v == int(v) and abs(v) < 1e15 else repr(v)

series = [target_series(i) for i in range(targets)]
offsets = [rng.randrange(15000) for _ in range(targets)]
start_ms = (end - int(hours * 3600)) * 1000
steps = int(hours * 3600 / 15)
with open(out + ".om", "w") as om, open(out + ".prom", "w") as prom:
    for k in range(steps):
        a, b = [], []
        for i in range(targets):
            t = start_ms + k * 15000 + offsets[i] + rng.randrange(26)
            ts_om = f"{t // 1000}.{t % 1000:03d}"
            for x in series[i]:
                v = fmt(step(x))
                a.append(f"{x[0]} {v} {ts_om}\n")
                b.append(f"{x[0]} {v} {t}\n")
        om.write("".join(a))
        prom.write("".join(b))
    om.write("# EOF\n")
print(f"{targets * 100} series x {steps} samples = {targets * 100 * steps} samples")
