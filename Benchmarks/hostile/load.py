#!/usr/bin/env python3
"""Heavy and hostile PromQL from many clients at once, with health probes beside.

Sends the query mix of issue 14 (long ranges over every series, regexes that make a
backtracking engine run for ages, deep nesting, parse errors, extreme times, allocation bombs)
from N client threads for a given time, while one more thread asks for /-/healthy, /-/ready
and /metrics every 100 ms, in a process of its own (so the clients' Python does not delay it).
Prints one JSON line: answers by status, answers that were not a
typed error (400 bad_data, 422 execution, 503 timeout), requests without an answer, and the
probe latencies (p50, p99, max, failures).

    load.py --url http://127.0.0.1:9090 --seconds 20 --clients 16 --end 1733000000
"""
import argparse
import http.client
import json
import subprocess
import sys
import threading
import time
import urllib.parse

TYPED = {400: "bad_data", 422: "execution", 503: "timeout"}


def requests(end, hours):
    start = end - hours * 3600
    rng = lambda q: ("/api/v1/query_range", {"query": q, "start": start, "end": end, "step": 15})
    inst = lambda q: ("/api/v1/query", {"query": q, "time": end})
    doubling = 'label_replace(vector(1), "a", "xxxxxxxx", "", "")'
    for _ in range(40):
        doubling = f'label_replace({doubling}, "a", "$1$1", "a", "(.*)")'
    return [
        rng('sum by (job) (rate({__name__=~"m.+"}[1h]))'),
        rng('quantile_over_time(0.9, {__name__=~".+"}[1h])'),
        rng('count_over_time({__name__=~"(a|aa)+|m(1|11)+.*"}[6h])'),
        rng('{__name__=~".+"}'),
        inst('label_replace({__name__=~".+"}, "x", "$1", "job", "(a|aa)+(.*)")'),
        inst("-".join(["1"] * 100_000)),
        inst("(" * 50_000 + "1" + ")" * 50_000),
        inst("sum(rate(m0[5m]) by (job)"),
        inst("up{"),
        inst("count_over_time(vector(1)[1y:1ms])"),
        inst(doubling),
        inst("up offset -292471208y"),
        ("/api/v1/query_range", {"query": "up", "start": "-9e15", "end": "9e15", "step": 1}),
        ("/api/v1/series", {"match[]": '{__name__=~"(a|aa)+.*|m.*"}'}),
    ]


class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.by_status = {}
        self.untyped = []
        self.unanswered = 0
        self.probes = []
        self.by_path = {}
        self.failed_probes = 0

    def record(self, path, query, status, body):
        with self.lock:
            if status is None:
                self.unanswered += 1
                return
            self.by_status[status] = self.by_status.get(status, 0) + 1
            if status == 200:
                return
            try:
                kind = json.loads(body).get("errorType")
            except ValueError:
                kind = None
            if TYPED.get(status) != kind:
                self.untyped.append(f"{path} {query[:60]}: {status} {body[:200]!r}")


def post(host, port, path, form, timeout):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        body = urllib.parse.urlencode(form)
        conn.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})
        r = conn.getresponse()
        return r.status, r.read()
    except (OSError, http.client.HTTPException):
        return None, b""
    finally:
        conn.close()


def get(host, port, path, timeout):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        return r.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def probe(host, port, args):
    """Asks for the health endpoints every 100 ms until the time is up; prints the latencies."""
    stop = time.monotonic() + args.seconds
    out = {"all": [], "by_path": {}, "failed": 0}
    while time.monotonic() < stop:
        for path in ("/-/ready", "/metrics", "/-/healthy"):
            t0 = time.monotonic()
            status = get(host, port, path, args.timeout)
            took = (time.monotonic() - t0) * 1000
            out["all"].append(took)
            out["by_path"].setdefault(path, []).append(took)
            if status != 200:
                out["failed"] += 1
        time.sleep(0.1)
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:9090")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--end", type=int, default=int(time.time()), help="end of the data, unix seconds")
    ap.add_argument("--hours", type=int, default=6)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--only", help="comma-separated indexes of the mix to send (default: all)")
    ap.add_argument("--probe-only", action="store_true", help="only probe, print the latencies as JSON")
    args = ap.parse_args()
    u = urllib.parse.urlparse(args.url)
    host, port = u.hostname, u.port or 80
    if args.probe_only:
        probe(host, port, args)
        return
    mix = requests(args.end, args.hours)
    if args.only:
        mix = [mix[int(i)] for i in args.only.split(",")]
    results = Results()
    stop = time.monotonic() + args.seconds

    def client(c):
        k = c
        while time.monotonic() < stop:
            path, form = mix[k % len(mix)]
            k += 1
            status, body = post(host, port, path, form, args.timeout)
            results.record(path, str(next(iter(form.values()))), status, body[:400].decode("utf-8", "replace"))

    prober = subprocess.Popen([sys.executable, __file__, "--probe-only", "--url", args.url,
                               "--seconds", str(args.seconds), "--timeout", str(args.timeout)],
                              stdout=subprocess.PIPE, text=True)
    threads = [threading.Thread(target=client, args=(c,)) for c in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    probed = json.loads(prober.communicate()[0])
    results.probes = probed["all"]
    results.by_path = probed["by_path"]
    results.failed_probes = probed["failed"]
    p = sorted(results.probes)
    at = lambda q: round(p[min(len(p) - 1, int(q * len(p)))], 1) if p else None
    print(json.dumps({
        "url": args.url, "seconds": args.seconds, "clients": args.clients,
        "answers": sum(results.by_status.values()),
        "by_status": {str(k): v for k, v in sorted(results.by_status.items())},
        "untyped": results.untyped[:10], "unanswered": results.unanswered,
        "probes": len(p), "failed_probes": results.failed_probes,
        "probe_p50_ms": at(0.5), "probe_p99_ms": at(0.99), "probe_max_ms": round(p[-1], 1) if p else None,
        "probe_p99_ms_by_path": {k: round(sorted(v)[min(len(v) - 1, int(0.99 * len(v)))], 1)
                                 for k, v in sorted(results.by_path.items())},
    }))


if __name__ == "__main__":
    main()
