#!/usr/bin/env python3
"""Sextant side by side with Prometheus and VictoriaMetrics on this machine, on loopback.

Storage: one generated data set (gendata.py) loaded into each (promtool create-blocks-from
openmetrics, VictoriaMetrics' /api/v1/import/prometheus, sextant import), left to compact,
then the data directory's size per sample. Query: dashboard range queries against the three
servers holding that data, alternated, median and p90, after checking that each system holds
every sample and that the answers agree (Sextant with Prometheus within a relative 1e-6;
VictoriaMetrics' MetricsQL differs by design, so its agreement is reported, not required).
Dashboard: 20 clients at once run the query set for a minute against each system: requests per
second, p50 and p99 latency, errors. Ingestion: a target fleet (fleet.py)
scraped by each with the same configuration: samples/s, CPU per million samples, peak RSS,
missed scrapes. Startup: each restarted on the directory its ingestion left (a full head,
replayed from the WAL) until ready.

Run through compare.sh, which installs the peers and builds Sextant.
"""
import argparse, datetime, json, os, platform, shutil, signal, statistics, subprocess, sys, time
import threading, urllib.error, urllib.parse, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEMS = ["sextant", "prometheus", "victoriametrics"]
PORTS = {"prometheus": 19091, "sextant": 19092, "victoriametrics": 19093}
RECEIVER_PORT = 19094          # the VictoriaMetrics both remote-write to
FLEET_BASE = 30000


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def http_get(url, timeout=300):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


def wait_until(check, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def du(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024
    return 0.0


def counter(url, name):
    """Sum of a counter (all label sets) in a /metrics page."""
    _, body = http_get(url, timeout=30)
    total = 0.0
    for line in body.decode().splitlines():
        if line.startswith(name) and (line[len(name)] in " {"):
            total += float(line.rsplit(" ", 1)[1])
    return total


class Server:
    """One system's server process on its loopback port."""

    def __init__(self, system, sextant, data, config, workdir):
        self.system, self.data, self.port = system, data, PORTS[system]
        addr = f"127.0.0.1:{self.port}"
        if system == "sextant":
            self.cmd = [sextant, "serve", "--storage.tsdb.path", data, "--web.listen-address", addr,
                        "--config.file", config, "--storage.tsdb.retention.time", "365d", "--log.level", "warn"]
        elif system == "prometheus":
            self.cmd = ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={data}",
                        f"--web.listen-address={addr}", "--storage.tsdb.retention.time=365d", "--log.level=warn"]
        else:
            self.cmd = ["victoria-metrics", f"-storageDataPath={data}", f"-httpListenAddr={addr}",
                        "-retentionPeriod=1y", "-search.disableCache", "-loggerLevel=ERROR",
                        f"-promscrape.config={config}", "-search.latencyOffset=0s"]
        self.log = open(os.path.join(workdir, f"{system}.log"), "ab")
        self.proc = None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.started = time.time()
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=self.log)

    def ready(self):
        path = "/health" if self.system == "victoriametrics" else "/-/ready"
        try:
            status, _ = http_get(self.base + path, timeout=2)
            return status == 200
        except OSError:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.system} exited with {self.proc.returncode}; see its log")
            return False

    def wait_ready(self, timeout=600):
        wait_until(self.ready, timeout, f"{self.system} to become ready")
        return time.time() - self.started

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def samples_metric(self):
        return {"sextant": "sextant_tsdb_head_samples_appended_total",
                "prometheus": "prometheus_tsdb_head_samples_appended_total",
                "victoriametrics": "vm_rows_added_to_storage_total"}[self.system]

    def query_range(self, q, start, end, step):
        params = urllib.parse.urlencode({"query": q, "start": start, "end": end, "step": step})
        t0 = time.perf_counter()
        status, body = http_get(f"{self.base}/api/v1/query_range?{params}")
        elapsed = time.perf_counter() - t0
        answer = json.loads(body)
        if status != 200 or answer.get("status") != "success":
            raise RuntimeError(f"{self.system}: {q}: {body[:300]!r}")
        return elapsed, answer["data"]["result"]

    def query(self, q, t):
        params = urllib.parse.urlencode({"query": q, "time": t})
        _, body = http_get(f"{self.base}/api/v1/query?{params}")
        return json.loads(body)["data"]["result"]


def write_config(path, targets):
    """The fleet's configuration, or one without scrape jobs (targets = 0)."""
    with open(path, "w") as f:
        if not targets:
            f.write("global: {scrape_interval: 15s}\nscrape_configs: []\n")
            return
        f.write("global: {scrape_interval: 1s, scrape_timeout: 1s}\nscrape_configs:\n"
                "  - job_name: fleet\n    static_configs:\n      - targets:\n")
        for i in range(targets):
            f.write(f"          - 127.0.0.1:{FLEET_BASE + i}\n")


# ---------------------------------------------------------------- storage and queries

def load(system, server, data_file, om_file, sextant, data_dir):
    """Loads the data set; returns the seconds it took."""
    t0 = time.time()
    if system == "prometheus":
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", om_file, data_dir],
                       check=True, stdout=subprocess.DEVNULL, stderr=server.log)
        server.start()
        server.wait_ready()
    elif system == "sextant":
        subprocess.run([sextant, "import", om_file, "--storage.tsdb.path", data_dir],
                       check=True, stdout=subprocess.DEVNULL, stderr=server.log)
        server.start()
        server.wait_ready()
    else:
        server.start()
        server.wait_ready()
        subprocess.run(["curl", "-sS", "--fail", "-X", "POST", "-T", data_file,
                        f"{server.base}/api/v1/import/prometheus"], check=True)
        http_get(server.base + "/internal/force_flush")
    return time.time() - t0


def settle(servers, start_ms, end_ms):
    """Lets each system compact: VictoriaMetrics is told to merge; Prometheus and Sextant
    compact on their own once a minute. Waits until no directory has changed size for 20 s."""
    months = sorted({datetime.datetime.fromtimestamp(t / 1000, datetime.timezone.utc).strftime("%Y_%m")
                     for t in (start_ms, end_ms)})
    for m in months:
        http_get(f"{servers['victoriametrics'].base}/internal/force_merge?partition_prefix={m}")
    time.sleep(70)
    sizes, stable_since = {}, time.time()
    deadline = time.time() + 300
    while time.time() < deadline:
        now = {s: du(servers[s].data) for s in servers}
        if now != sizes:
            sizes, stable_since = now, time.time()
        elif time.time() - stable_since >= 20:
            break
        time.sleep(5)
    return sizes


METRIC_NAMES = ["http_requests_total", "http_request_duration_seconds_bucket", "http_request_duration_seconds_sum",
                "http_request_duration_seconds_count", "process_resident_memory_bytes", "node_cpu_temperature_celsius",
                "queue_length", "build_info", "config_last_reload_successful", "node_filesystem_size_bytes"]

QUERIES = [
    ("rate", 'rate(http_requests_total{instance="host-007:9100"}[5m])'),
    ("sum by", "sum by (code) (rate(http_requests_total[5m]))"),
    ("topk", "topk(5, sum by (instance) (rate(http_requests_total[5m])))"),
    ("histogram_quantile", "histogram_quantile(0.9, sum by (le, handler) (rate(http_request_duration_seconds_bucket[5m])))"),
    ("regex, ~1000 series", 'sum(rate(http_requests_total{instance=~"host-0([01][0-9]|2[0-4]):9100"}[5m]))'),
    ("*_over_time", "max_over_time(process_resident_memory_bytes[10m])"),
    ("count by", 'count by (__name__) ({job="fleet"})'),
]


def storage_and_queries(a, w, empty, servers):
    """Loads the data set into each system, measures its size once compacted, then times the
    dashboard queries against the three servers."""
    end = int(time.time()) // 3600 * 3600 - 1800
    base = os.path.join(w, "data")
    if not os.path.exists(base + ".om"):
        log(f"generating {a.targets * 100} series x {a.hours} h")
        subprocess.run([sys.executable, os.path.join(HERE, "gendata.py"), base, str(a.targets), str(a.hours), str(end)],
                       check=True, stdout=subprocess.DEVNULL)
    with open(base + ".om", "rb") as f:
        first_t = float(f.readline().split()[-1])
    start_ms = int(first_t * 1000) // 15000 * 15000
    end_ms = start_ms + int(a.hours * 3600 * 1000)
    samples = a.targets * 100 * int(a.hours * 3600 / 15)
    load_seconds = {}
    for s in SYSTEMS:
        d = os.path.join(w, f"store-{s}")
        shutil.rmtree(d, ignore_errors=True)
        servers[s] = Server(s, a.sextant, d, empty, w)
        log(f"loading into {s}")
        load_seconds[s] = load(s, servers[s], base + ".prom", base + ".om", a.sextant, d)
    log("waiting for compaction")
    sizes = settle(servers, start_ms, end_ms)
    window = f"{int(a.hours * 60) + 60}m"
    counts = {s: sum(float(v[0]["value"][1]) for v in (
                  servers[s].query(f"sum(count_over_time({name}[{window}]))", end_ms / 1000 + 1800) for name in METRIC_NAMES)
                  if v) for s in servers}
    for s, n in counts.items():
        if n != samples:
            raise RuntimeError(f"{s} holds {n:,.0f} samples of the {samples:,} loaded")
    storage = {"series": a.targets * 100, "samples_per_series": int(a.hours * 3600 / 15), "samples": samples,
               "hours": a.hours, "bytes": sizes, "bytes_per_sample": {s: sizes[s] / samples for s in sizes},
               "load_seconds": load_seconds, "samples_counted_by_each": counts}
    log(f"storage: {storage['bytes_per_sample']}; samples counted {counts}")
    qs, qe, step = start_ms / 1000 + 600, end_ms / 1000, 60
    times, shapes, agreement = run_queries(servers, qs, qe, step, a.reps)
    queries = {"range_hours": round((qe - qs) / 3600, 2), "step": step, "steps": int((qe - qs) // step) + 1,
               "reps": a.reps, "results": {
                   name: {s: {"median_ms": statistics.median(times[name][s]) * 1000,
                              "p90_ms": quantile(times[name][s], 0.9) * 1000,
                              "series": shapes[name][s][0], "points": shapes[name][s][1]} for s in servers}
                   for name, _ in QUERIES},
               "agreement": agreement}
    queries["dashboard"] = {"clients": a.dashboard_clients, "seconds": a.dashboard_seconds,
                            "results": dashboard(servers, qs, qe, step, a.dashboard_clients, a.dashboard_seconds)}
    for name, _ in QUERIES:
        log(f"{name}: " + ", ".join(f"{s} {queries['results'][name][s]['median_ms']:.1f} ms "
                                    f"({shapes[name][s][0]} series, {shapes[name][s][1]} points)" for s in servers))
    return storage, queries


def run_queries(servers, start_s, end_s, step, reps):
    """Times each query against each system, the systems alternated; the warm-up round's
    answers are compared first (see `agree`)."""
    times = {name: {s: [] for s in servers} for name, _ in QUERIES}
    shapes = {name: {} for name, _ in QUERIES}
    agreement = {}
    order = list(servers)
    for rep in range(reps + 1):
        for name, q in QUERIES:
            order = order[1:] + order[:1]          # alternate who goes first
            answers = {}
            for s in order:
                elapsed, result = servers[s].query_range(q, start_s, end_s, step)
                if rep == 0:                       # warm-up round, and the shape of the answer
                    shapes[name][s] = (len(result), sum(len(r["values"]) for r in result))
                    answers[s] = result
                else:
                    times[name][s].append(elapsed)
            if rep == 0:
                agreement[name] = {peer: agree(answers["sextant"], answers[peer]) for peer in answers if peer != "sextant"}
                log(f"{name}: agreement {agreement[name]}")
                if not agreement[name]["prometheus"]["agrees"]:
                    raise RuntimeError(f"{name}: Sextant and Prometheus disagree: {agreement[name]['prometheus']}")
    return times, shapes, agreement


def agree(mine, theirs, tolerance=1e-6):
    """Whether two range query answers hold the same series with the same points, values
    within a relative `tolerance`; with the largest relative difference and the first
    mismatch."""
    def by_labels(result):
        return {tuple(sorted(r["metric"].items())): {float(t): float(v) for t, v in r["values"]} for r in result}
    a, b = by_labels(mine), by_labels(theirs)
    worst, first = 0.0, None
    for key in sorted(set(a) | set(b)):
        if key not in a or key not in b:
            first = first or f"series {dict(key)} only in {'one' if key in a else 'the other'}"
            continue
        pa, pb = a[key], b[key]
        if set(pa) != set(pb):
            first = first or f"series {dict(key)}: {len(pa)} points against {len(pb)}"
        for t in set(pa) & set(pb):
            x, y = pa[t], pb[t]
            if x == y or (x != x and y != y):
                continue
            d = abs(x - y) / max(abs(x), abs(y))
            worst = max(worst, d)
            if d > tolerance:
                first = first or f"series {dict(key)} at {t}: {x} against {y}"
    return {"agrees": first is None, "max_relative_difference": worst, "first_mismatch": first}


# ---------------------------------------------------------------- dashboard load

def dashboard(servers, start_s, end_s, step, clients, seconds):
    """`clients` threads at once, each running the query set in turn (as a dashboard opening
    and refreshing does) for `seconds`, against one system at a time."""
    out = {}
    for s, server in servers.items():
        latencies, errors, lock = [], [], threading.Lock()
        deadline = time.time() + seconds

        def client(k):
            i = k
            while time.time() < deadline:
                name, q = QUERIES[i % len(QUERIES)]
                i += 1
                params = urllib.parse.urlencode({"query": q, "start": start_s, "end": end_s, "step": step})
                t0 = time.perf_counter()
                try:
                    with urllib.request.urlopen(f"{server.base}/api/v1/query_range?{params}", timeout=120) as r:
                        ok = r.status == 200 and b'"status":"success"' in r.read()
                    problem = None if ok else f"{name}: not a success"
                except (OSError, urllib.error.HTTPError) as e:
                    problem = f"{name}: {e}"
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
                    if problem:
                        errors.append(problem)

        threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        t0 = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.time() - t0
        out[s] = {"requests": len(latencies), "requests_per_second": len(latencies) / wall,
                  "p50_ms": quantile(latencies, 0.5) * 1000 if latencies else None,
                  "p99_ms": quantile(latencies, 0.99) * 1000 if latencies else None,
                  "errors": len(errors), "first_errors": errors[:5]}
        log(f"dashboard {s}: {out[s]}")
    return out


def quantile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


# ---------------------------------------------------------------- ingestion and startup

def ingest(system, sextant, workdir, config, seconds, targets, series):
    data = os.path.join(workdir, f"ingest-{system}")
    shutil.rmtree(data, ignore_errors=True)
    server = Server(system, sextant, data, config, workdir)
    server.start()
    server.wait_ready()
    time.sleep(15)                                   # start-up and first scrapes
    metrics = server.base + "/metrics"
    fleet = f"http://127.0.0.1:{FLEET_BASE - 1}/"
    c0, s0, f0 = cpu_seconds(server.proc.pid), counter(metrics, server.samples_metric()), int(http_get(fleet)[1])
    time.sleep(seconds)
    c1, s1, f1 = cpu_seconds(server.proc.pid), counter(metrics, server.samples_metric()), int(http_get(fleet)[1])
    rss = peak_rss_mb(server.proc.pid)
    samples = s1 - s0
    result = {
        "samples_per_second": samples / seconds,
        "cpu_seconds_per_million_samples": (c1 - c0) / (samples / 1e6) if samples else None,
        "cpu_share_of_a_core": (c1 - c0) / seconds,
        "peak_rss_mb": rss,
        "scrapes_expected": targets * seconds,
        "scrapes_served": f1 - f0,
        "missed_scrapes": max(0, targets * seconds - (f1 - f0)),
        "scraped_samples_expected_per_second": targets * series,
    }
    head = None
    if system != "victoriametrics":
        head = counter(metrics, "sextant_tsdb_head_series" if system == "sextant" else "prometheus_tsdb_head_series")
    server.stop()
    return result, data, head


def remote_write(system, sextant, workdir, fleet_config, seconds):
    """Scrapes the fleet and remote-writes everything to the shared receiver: CPU seconds per
    million samples sent (scraping included), peak memory, and how far sending lags."""
    data = os.path.join(workdir, f"rw-{system}")
    shutil.rmtree(data, ignore_errors=True)
    config = os.path.join(workdir, f"rw-{system}.yml")
    with open(fleet_config) as f, open(config, "w") as out:
        out.write(f.read())
        out.write(f"remote_write:\n  - url: http://127.0.0.1:{RECEIVER_PORT}/api/v1/write\n"
                  "    queue_config: {max_samples_per_send: 2000, capacity: 10000}\n")
    server = Server(system, sextant, data, config, workdir)
    server.start()
    server.wait_ready()
    time.sleep(15)                                   # start-up, first scrapes and sends
    prefix = "sextant" if system == "sextant" else "prometheus"
    metrics = server.base + "/metrics"
    sent = f"{prefix}_remote_storage_samples_total"
    c0, n0 = cpu_seconds(server.proc.pid), counter(metrics, sent)
    time.sleep(seconds)
    c1, n1 = cpu_seconds(server.proc.pid), counter(metrics, sent)
    lags = []
    for _ in range(5):                               # the newest sent sample's age, sampled
        newest = counter(metrics, f"{prefix}_remote_storage_queue_highest_sent_timestamp_seconds")
        lags.append(time.time() - newest)
        time.sleep(1)
    failed = counter(metrics, f"{prefix}_remote_storage_samples_failed_total")
    result = {
        "samples_sent_per_second": (n1 - n0) / seconds,
        "cpu_seconds_per_million_samples_sent": (c1 - c0) / ((n1 - n0) / 1e6) if n1 > n0 else None,
        "peak_rss_mb": peak_rss_mb(server.proc.pid),
        "median_lag_seconds": statistics.median(lags),
        "samples_failed": failed,
    }
    server.stop()
    shutil.rmtree(data, ignore_errors=True)
    return result


RULE_METRICS = 50          # recording rules, one per fleet metric family
RULE_ALERTS = 10           # alerting rules, each firing for the 200s of one family on every target


def write_rules(path):
    """The benchmark's rule file: per-code request rates of every metric family, and alerts
    with templated annotations that fire for a share of the fleet's series."""
    with open(path, "w") as f:
        f.write("groups:\n  - name: recording\n    rules:\n")
        for m in range(RULE_METRICS):
            f.write(f"      - record: fleet:requests:rate1m_{m}\n"
                    f"        expr: sum by (job, code) (rate(fleet_requests_total_{m}[1m]))\n")
        f.write("  - name: alerts\n    rules:\n")
        for m in range(RULE_ALERTS):
            f.write(f"      - alert: Busy{m}\n        expr: rate(fleet_requests_total_{m}{{code=\"200\"}}[1m]) > 0\n"
                    "        labels: {severity: ticket}\n"
                    "        annotations: {summary: '{{ $labels.instance }} {{ $labels.handler }} at {{ $value | humanize }}/s'}\n")


def rule_evaluation(system, sextant, workdir, fleet_config, seconds, rules):
    """CPU per second of a server scraping the fleet, with or without the rule file
    evaluated every second; also the rule evaluations counted and failed meanwhile."""
    data = os.path.join(workdir, f"rules-{system}")
    shutil.rmtree(data, ignore_errors=True)
    config = os.path.join(workdir, f"rules-{system}.yml")
    with open(fleet_config) as f, open(config, "w") as out:
        out.write(f.read().replace("global: {", "global: {evaluation_interval: 1s, ", 1))
        if rules:
            out.write(f"rule_files: [{rules}]\n")
    server = Server(system, sextant, data, config, workdir)
    server.start()
    server.wait_ready()
    time.sleep(20)                                   # start-up, scrapes to rate over, restore
    prefix = "sextant" if system == "sextant" else "prometheus"
    metrics = server.base + "/metrics"
    c0, e0 = cpu_seconds(server.proc.pid), counter(metrics, f"{prefix}_rule_evaluations_total")
    time.sleep(seconds)
    c1, e1 = cpu_seconds(server.proc.pid), counter(metrics, f"{prefix}_rule_evaluations_total")
    failed = counter(metrics, f"{prefix}_rule_evaluation_failures_total")
    alerts = len(json.loads(http_get(server.base + "/api/v1/alerts")[1])["data"]["alerts"]) if rules else 0
    server.stop()
    shutil.rmtree(data, ignore_errors=True)
    return {"cpu_per_second": (c1 - c0) / seconds, "rule_evaluations": e1 - e0, "failures": failed, "alerts": alerts}


def rules_markdown(ru):
    out = ["", f"### Rule evaluation ({ru['targets']} targets x {ru['series']} series scraped every second; "
               f"{RULE_METRICS} recording and {RULE_ALERTS} alerting rules every second; {ru['seconds']} s each)", "",
           "| | Sextant | Prometheus 2.42 | ratio |", "|---|---|---|---|"]
    x = ru["results"]
    def row(name, key, fmt="{:.3f}"):
        a, b = x["sextant"][key], x["prometheus"][key]
        q = ratio(a, b)
        out.append(f"| {name} | {fmt.format(a)} | {fmt.format(b)} | {'' if q is None else f'{q:.2f}'} |")
    row("CPU share of a core for the rules (with minus without)", "rule_cpu_per_second")
    row("CPU ms per rule evaluation", "cpu_ms_per_rule_evaluation")
    row("CPU µs per input series evaluated", "cpu_us_per_series")
    row("rule evaluations per second", "rule_evaluations_per_second", "{:.1f}")
    row("active alerts at the end", "alerts", "{:d}")
    return "\n".join(out) + "\n"


def remote_write_markdown(rw, ingestion=None):
    """The remote write table; with the same invocation's ingestion results, also each
    system's sending alone (its remote write run's CPU per million minus its scrape-only run's)."""
    x = {s: dict(v) for s, v in rw["results"].items()}
    rows = [("samples_sent_per_second", "samples sent per second"),
            ("cpu_seconds_per_million_samples_sent", "CPU seconds per million samples sent (scraping included)")]
    if ingestion:
        for s in x:
            scrape = ingestion["results"][s]["cpu_seconds_per_million_samples"]
            sent = x[s]["cpu_seconds_per_million_samples_sent"]
            x[s]["scrape_only"] = scrape
            x[s]["sending_only"] = sent - scrape if sent is not None and scrape is not None else None
        rows += [("scrape_only", "CPU seconds per million, scraping alone (ingestion run)"),
                 ("sending_only", "CPU seconds per million, sending only (the difference)")]
    rows += [("peak_rss_mb", "peak RSS, MiB"), ("median_lag_seconds", "median lag, s"), ("samples_failed", "samples failed")]
    lines = [f"\n## Remote write ({rw['targets']} targets x {rw['series']} series every second, sent to one "
             f"VictoriaMetrics receiver, {rw['seconds']} s)\n",
             "| | Sextant | Prometheus | Sextant / Prometheus |", "|---|---|---|---|"]
    for key, label in rows:
        a, b = x["sextant"][key], x["prometheus"][key]
        r = f"{a / b:.2f}" if a and b else ""
        lines.append(f"| {label} | {a:.3g} | {b:.3g} | {r} |" if a is not None and b is not None else f"| {label} | {a} | {b} | |")
    return "\n".join(lines) + "\n"


def startup(system, sextant, workdir, data, empty_config):
    server = Server(system, sextant, data, empty_config, workdir)
    server.start()
    seconds = server.wait_ready()
    server.stop()
    return seconds


# ---------------------------------------------------------------- report

def ratio(a, b):
    return None if not a or not b else a / b


def markdown(r):
    m = r["machine"]
    out = [f"Run {r['date']} on {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}; "
           f"Prometheus {r['versions']['prometheus']}, VictoriaMetrics {r['versions']['victoriametrics']}, "
           f"Sextant {r['versions']['sextant']}. Command: `{r['command']}`.", ""]
    st = r["storage"]
    out += [f"**Storage**: {st['series']} series x {st['samples_per_series']} samples at 15 s "
            f"({st['samples']:,} samples, {st['hours']} h), loaded and compacted.", "",
            "| | Sextant | Prometheus | VictoriaMetrics | Sextant/Prometheus | Sextant/VictoriaMetrics |",
            "|---|---|---|---|---|---|"]
    b = st["bytes_per_sample"]
    out.append(f"| bytes per sample on disk | {b['sextant']:.2f} | {b['prometheus']:.2f} | {b['victoriametrics']:.2f} "
               f"| {ratio(b['sextant'], b['prometheus']):.2f} | {ratio(b['sextant'], b['victoriametrics']):.2f} |")
    lt = st["load_seconds"]
    out.append(f"| load time (import / promtool / import API) | {lt['sextant']:.1f} s | {lt['prometheus']:.1f} s "
               f"| {lt['victoriametrics']:.1f} s | {ratio(lt['sextant'], lt['prometheus']):.2f} | "
               f"{ratio(lt['sextant'], lt['victoriametrics']):.2f} |")
    q = r["queries"]
    out += ["", f"**Queries**: range queries over {q['range_hours']} h at {q['step']} s steps "
            f"({q['steps']} points per series), {q['reps']} runs each after a warm-up, the systems "
            "alternated; median / p90 in milliseconds.", "",
            "| query | Sextant | Prometheus | VictoriaMetrics | Sextant/Prometheus | Sextant/VictoriaMetrics |",
            "|---|---|---|---|---|---|"]
    for name, expr in QUERIES:
        e = q["results"][name]
        cell = lambda s: f"{e[s]['median_ms']:.1f} / {e[s]['p90_ms']:.1f}"
        out.append(f"| {name}: `{expr.replace('|', chr(92) + '|')}` | {cell('sextant')} | {cell('prometheus')} | "
                   f"{cell('victoriametrics')} | {ratio(e['sextant']['median_ms'], e['prometheus']['median_ms']):.2f} | "
                   f"{ratio(e['sextant']['median_ms'], e['victoriametrics']['median_ms']):.2f} |")
    ag = q.get("agreement", {})
    if ag:
        out += ["", "Answers compared before timing (warm-up round): Sextant against Prometheus "
                + ("agrees on every query" if all(v["prometheus"]["agrees"] for v in ag.values()) else "DISAGREES")
                + " (largest relative difference "
                + f"{max(v['prometheus']['max_relative_difference'] for v in ag.values()):.1e}); against VictoriaMetrics, "
                + "whose MetricsQL computes rate and histogram_quantile differently: "
                + ", ".join(f"{n} {'agrees' if v['victoriametrics']['agrees'] else 'differs by up to ' + format(v['victoriametrics']['max_relative_difference'], '.1e')}"
                            for n, v in ag.items()) + "."]
    d = q.get("dashboard")
    if d:
        x = d["results"]
        out += ["", f"**Dashboard load**: {d['clients']} clients at once, each running the query set in turn for "
                f"{d['seconds']} s against one system at a time.", "",
                "| | Sextant | Prometheus | VictoriaMetrics | Sextant/Prometheus | Sextant/VictoriaMetrics |",
                "|---|---|---|---|---|---|"]
        for key, label, fmt in [("requests_per_second", "requests/s", "{:.1f}"), ("p50_ms", "p50 latency, ms", "{:.0f}"),
                                ("p99_ms", "p99 latency, ms", "{:.0f}"), ("errors", "errors", "{:.0f}")]:
            vals = [x[s][key] for s in SYSTEMS]
            rp, rv = ratio(vals[0], vals[1]), ratio(vals[0], vals[2])
            out.append(f"| {label} | " + " | ".join(fmt.format(v) for v in vals)
                       + f" | {'' if rp is None else f'{rp:.2f}'} | {'' if rv is None else f'{rv:.2f}'} |")
    ing = r["ingestion"]
    out += ["", f"**Ingestion**: {ing['targets']} targets x {ing['series']} series scraped every second, "
            f"{ing['seconds']} s measured after 15 s of warm-up.", "",
            "| | Sextant | Prometheus | VictoriaMetrics | Sextant/Prometheus | Sextant/VictoriaMetrics |",
            "|---|---|---|---|---|---|"]
    x = ing["results"]
    for key, label, fmt in [("samples_per_second", "samples/s", "{:,.0f}"),
                            ("cpu_seconds_per_million_samples", "CPU seconds per million samples", "{:.2f}"),
                            ("peak_rss_mb", "peak RSS, MB", "{:.0f}"),
                            ("missed_scrapes", "missed scrapes", "{:.0f}")]:
        vals = [x[s][key] for s in SYSTEMS]
        rp = ratio(vals[0], vals[1])
        rv = ratio(vals[0], vals[2])
        out.append(f"| {label} | " + " | ".join(fmt.format(v) for v in vals)
                   + f" | {'' if rp is None else f'{rp:.2f}'} | {'' if rv is None else f'{rv:.2f}'} |")
    s = r["startup"]
    out += ["", f"**Startup**: restart on the directory the ingestion run left, until ready "
            f"(Prometheus and Sextant replay their WAL; head series before the stop: "
            f"Sextant {s['head_series']['sextant']:,.0f}, Prometheus {s['head_series']['prometheus']:,.0f}).", "",
            "| | Sextant | Prometheus | VictoriaMetrics | Sextant/Prometheus | Sextant/VictoriaMetrics |",
            "|---|---|---|---|---|---|",
            f"| seconds to ready | {s['seconds']['sextant']:.2f} | {s['seconds']['prometheus']:.2f} | "
            f"{s['seconds']['victoriametrics']:.2f} | {ratio(s['seconds']['sextant'], s['seconds']['prometheus']):.2f} | "
            f"{ratio(s['seconds']['sextant'], s['seconds']['victoriametrics']):.2f} |"]
    t = r["targets"]
    out += ["", "**Targets**: " + "; ".join(f"{k}: {'met' if v else 'missed'}" for k, v in t.items()) + "."]
    return "\n".join(out) + "\n"


def versions(sextant):
    def first_line(cmd):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True)
            return (p.stdout + p.stderr).splitlines()[0]
        except (OSError, IndexError):
            return "?"
    return {"sextant": first_line([sextant, "--version"]),
            "prometheus": first_line(["prometheus", "--version"]).replace("prometheus, version ", "").split(" ")[0],
            "victoriametrics": first_line(["dpkg-query", "-W", "-f=${Version}\n", "victoria-metrics"])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sextant", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--targets", type=int, default=100, help="data set: targets of 100 series")
    ap.add_argument("--hours", type=float, default=6)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--dashboard-clients", type=int, default=20)
    ap.add_argument("--dashboard-seconds", type=int, default=60)
    ap.add_argument("--fleet-targets", type=int, default=200)
    ap.add_argument("--fleet-series", type=int, default=1000)
    ap.add_argument("--fleet-seconds", type=int, default=60)
    ap.add_argument("--command", default="Benchmarks/compare/compare.sh")
    ap.add_argument("--skip", default="", help="comma-separated phases to skip: storage,ingestion,remote-write,rules")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    os.makedirs(a.out, exist_ok=True)
    skip = set(filter(None, a.skip.split(",")))
    w = a.workdir
    r = {"date": time.strftime("%Y-%m-%d"), "command": a.command,
         "machine": {"cores": os.cpu_count(), "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
                     "os": platform.platform()},
         "versions": versions(a.sextant)}
    empty = os.path.join(w, "empty.yml")
    write_config(empty, 0)

    if "storage" not in skip:
        servers = {}
        try:
            r["storage"], r["queries"] = storage_and_queries(a, w, empty, servers)
        finally:
            for s in servers.values():
                s.stop()

    if "ingestion" not in skip:
        fleet_log = open(os.path.join(w, "fleet.log"), "w")
        fleet = subprocess.Popen([sys.executable, os.path.join(HERE, "fleet.py"), str(FLEET_BASE), str(a.fleet_targets),
                                  str(a.fleet_series)], stdout=fleet_log, stderr=fleet_log)
        try:
            wait_until(lambda: "ready" in open(os.path.join(w, "fleet.log")).read(), 300, "the fleet")
            config = os.path.join(w, "fleet.yml")
            write_config(config, a.fleet_targets)
            results, dirs, heads, starts = {}, {}, {}, {}
            for s in SYSTEMS:
                log(f"ingestion: {s}")
                results[s], dirs[s], heads[s] = ingest(s, a.sextant, w, config, a.fleet_seconds, a.fleet_targets, a.fleet_series)
                log(f"{s}: {results[s]}")
            for s in SYSTEMS:
                starts[s] = startup(s, a.sextant, w, dirs[s], empty)
                log(f"startup {s}: {starts[s]:.2f} s")
            r["ingestion"] = {"targets": a.fleet_targets, "series": a.fleet_series, "seconds": a.fleet_seconds, "results": results}
            r["startup"] = {"seconds": starts, "head_series": {s: heads[s] or 0 for s in SYSTEMS}}
        finally:
            fleet.terminate()

    if "remote-write" not in skip:
        fleet_log = open(os.path.join(w, "fleet-rw.log"), "w")
        fleet = subprocess.Popen([sys.executable, os.path.join(HERE, "fleet.py"), str(FLEET_BASE), str(a.fleet_targets),
                                  str(a.fleet_series)], stdout=fleet_log, stderr=fleet_log)
        receiver_data = os.path.join(w, "rw-receiver")
        shutil.rmtree(receiver_data, ignore_errors=True)
        receiver = subprocess.Popen(["victoria-metrics", f"-storageDataPath={receiver_data}",
                                     f"-httpListenAddr=127.0.0.1:{RECEIVER_PORT}", "-loggerLevel=ERROR", "-retentionPeriod=1y"],
                                    stdout=fleet_log, stderr=fleet_log)
        try:
            wait_until(lambda: "ready" in open(os.path.join(w, "fleet-rw.log")).read(), 300, "the fleet")
            wait_until(lambda: http_get(f"http://127.0.0.1:{RECEIVER_PORT}/health", timeout=2)[0] == 200, 60, "the receiver")
            config = os.path.join(w, "fleet.yml")
            write_config(config, a.fleet_targets)
            results = {}
            for s in ["sextant", "prometheus"]:
                log(f"remote write: {s}")
                results[s] = remote_write(s, a.sextant, w, config, a.fleet_seconds)
                log(f"{s}: {results[s]}")
            r["remote_write"] = {"targets": a.fleet_targets, "series": a.fleet_series, "seconds": a.fleet_seconds,
                                 "results": results}
        finally:
            fleet.terminate()
            receiver.terminate()
            receiver.wait()
            shutil.rmtree(receiver_data, ignore_errors=True)

    if "rules" not in skip:
        fleet_log = open(os.path.join(w, "fleet-rules.log"), "w")
        fleet = subprocess.Popen([sys.executable, os.path.join(HERE, "fleet.py"), str(FLEET_BASE), str(a.fleet_targets),
                                  str(a.fleet_series)], stdout=fleet_log, stderr=fleet_log)
        try:
            wait_until(lambda: "ready" in open(os.path.join(w, "fleet-rules.log")).read(), 300, "the fleet")
            config = os.path.join(w, "fleet.yml")
            write_config(config, a.fleet_targets)
            rules = os.path.join(w, "bench-rules.yml")
            write_rules(rules)
            # Input series one round of both groups reads: 10 per target and family recorded,
            # the 4 with code 200 per target and family alerted on.
            series_per_evaluation = a.fleet_targets * (RULE_METRICS * 10 + RULE_ALERTS * 4)
            results = {}
            for s in ["sextant", "prometheus"]:
                log(f"rules: {s}")
                base = rule_evaluation(s, a.sextant, w, config, a.fleet_seconds, None)
                with_rules = rule_evaluation(s, a.sextant, w, config, a.fleet_seconds, rules)
                evaluations = with_rules["rule_evaluations"]
                rule_cpu = max(0.0, with_rules["cpu_per_second"] - base["cpu_per_second"])
                groups_per_second = evaluations / (RULE_METRICS + RULE_ALERTS) / a.fleet_seconds
                results[s] = {"baseline": base, "with_rules": with_rules, "rule_cpu_per_second": rule_cpu,
                              "rule_evaluations_per_second": evaluations / a.fleet_seconds,
                              "cpu_ms_per_rule_evaluation": 1000 * rule_cpu * a.fleet_seconds / evaluations if evaluations else float("nan"),
                              "cpu_us_per_series": 1e6 * rule_cpu / (groups_per_second * series_per_evaluation) if evaluations else float("nan"),
                              "failures": with_rules["failures"], "alerts": with_rules["alerts"]}
                log(f"{s}: {results[s]}")
            r["rules"] = {"targets": a.fleet_targets, "series": a.fleet_series, "seconds": a.fleet_seconds, "results": results}
        finally:
            fleet.terminate()

    t = {}
    if "storage" in r:
        b = r["storage"]["bytes_per_sample"]
        t["bytes per sample at most VictoriaMetrics'"] = b["sextant"] <= b["victoriametrics"]
        t["every query's median faster than both"] = all(
            e["sextant"]["median_ms"] < min(e["prometheus"]["median_ms"], e["victoriametrics"]["median_ms"])
            for e in r["queries"]["results"].values())
        dash = r["queries"]["dashboard"]["results"]
        t["dashboard: throughput at least VictoriaMetrics', p99 at most, no errors"] = (
            dash["sextant"]["requests_per_second"] >= dash["victoriametrics"]["requests_per_second"]
            and dash["sextant"]["p99_ms"] <= dash["victoriametrics"]["p99_ms"] and dash["sextant"]["errors"] == 0)
    if "ingestion" in r:
        x = r["ingestion"]["results"]
        t["ingest CPU per sample at most half of Prometheus'"] = (
            x["sextant"]["cpu_seconds_per_million_samples"] <= 0.5 * x["prometheus"]["cpu_seconds_per_million_samples"])
        t["startup faster than Prometheus"] = r["startup"]["seconds"]["sextant"] < r["startup"]["seconds"]["prometheus"]
    if "remote_write" in r:
        x = r["remote_write"]["results"]
        t["remote write: CPU per sample sent at most Prometheus', nothing failed"] = (
            (x["sextant"]["cpu_seconds_per_million_samples_sent"] or 1e9) <= (x["prometheus"]["cpu_seconds_per_million_samples_sent"] or 0)
            and x["sextant"]["samples_failed"] == 0)
    if "rules" in r:
        x = r["rules"]["results"]
        t["rules: CPU per rule evaluation at most Prometheus', no failures"] = (
            x["sextant"]["cpu_ms_per_rule_evaluation"] <= x["prometheus"]["cpu_ms_per_rule_evaluation"]
            and x["sextant"]["failures"] == 0)
    r["targets"] = t

    stamp = time.strftime("%Y-%m-%d")
    with open(os.path.join(a.out, f"{stamp}.json"), "w") as f:
        json.dump(r, f, indent=1)
    if "storage" in r and "ingestion" in r:
        md = markdown(r) + (remote_write_markdown(r["remote_write"], r.get("ingestion")) if "remote_write" in r else "")
        md += rules_markdown(r["rules"]) if "rules" in r else ""
        with open(os.path.join(a.out, f"{stamp}.md"), "w") as f:
            f.write(md)
        print(md)
    else:
        if "remote_write" in r:
            print(remote_write_markdown(r["remote_write"], r.get("ingestion")))
        if "rules" in r:
            print(rules_markdown(r["rules"]))
        print(json.dumps(r, indent=1))


if __name__ == "__main__":
    main()
