#!/usr/bin/env python3
"""A Kubernetes API server stand-in for the discovery scale benchmark (plain HTTP, loopback).

Serves /api/v1/pods as lists (limit/continue) and watches (chunked, one JSON event per line),
holds N pods, and changes them at a given rate (MODIFIED events on random pods). Every second
it adds a probe pod (label probe=true) and deletes it half a second later, and measures, by
polling the Sextant server's /api/v1/targets, how long each change takes to show there.

  fakeapi.py --port 18080 --pods 10000 --rate 100 --sextant http://127.0.0.1:19090 \
             --seconds 60 --out result.json
"""
import argparse
import json
import random
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class Cluster:
    def __init__(self, pods):
        self.lock = threading.Condition()
        self.version = 1000
        self.pods = {}  # name -> json text
        self.events = []  # (version, type, json text)
        for i in range(pods):
            self.put(self.pod(f"app-{i:05d}", f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}", i), record=False)

    @staticmethod
    def pod(name, ip, i, labels=None, rev=0):
        labels = dict(labels or {"app": f"app-{i % 50}", "team": f"team-{i % 7}", "pod-template-hash": "5d9c7f"})
        labels["rev"] = str(rev)
        return {
            "kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": f"ns-{i % 20}", "uid": f"uid-{name}", "labels": labels,
                         "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8080"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"app-{i % 50}-5d9c7f",
                                              "uid": "rs", "controller": True}]},
            "spec": {"nodeName": f"node-{i % 100}", "containers": [
                {"name": "main", "image": "registry.example.com/app:1.2.3",
                 "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]},
                {"name": "sidecar", "image": "registry.example.com/proxy:2.0",
                 "ports": [{"name": "admin", "containerPort": 15000, "protocol": "TCP"}]}]},
            "status": {"phase": "Running", "podIP": ip, "hostIP": f"172.18.0.{i % 100}",
                       "conditions": [{"type": "Ready", "status": "True"}]},
        }

    def put(self, obj, record=True):
        with self.lock:
            self.version += 1
            obj["metadata"]["resourceVersion"] = str(self.version)
            name = obj["metadata"]["name"]
            kind = "MODIFIED" if name in self.pods else "ADDED"
            text = json.dumps(obj, separators=(",", ":"))
            self.pods[name] = text
            if record:
                self.events.append((self.version, kind, text))
                self.lock.notify_all()

    def delete(self, name):
        with self.lock:
            text = self.pods.pop(name, None)
            if text is None:
                return
            self.version += 1
            self.events.append((self.version, "DELETED", text))
            self.lock.notify_all()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    cluster = None

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path != "/api/v1/pods":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if q.get("watch") in ("1", "true"):
            return self.watch(int(q.get("resourceVersion") or 0), int(q.get("timeoutSeconds") or 300))
        c = self.cluster
        limit = int(q.get("limit") or 0)
        offset = int(q.get("continue") or 0)
        with c.lock:
            names = sorted(c.pods)
            end = min(len(names), offset + limit) if limit else len(names)
            items = [c.pods[n] for n in names[offset:end]]
            meta = {"resourceVersion": str(c.version)}
            if end < len(names):
                meta["continue"] = str(end)
        body = ('{"kind":"PodList","apiVersion":"v1","metadata":' + json.dumps(meta) + ',"items":[' + ",".join(items) + "]}").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def watch(self, since, timeout):
        c = self.cluster
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        end = time.monotonic() + timeout
        cursor = since
        try:
            while time.monotonic() < end:
                with c.lock:
                    c.lock.wait_for(lambda: c.events and c.events[-1][0] > cursor, timeout=1)
                    fresh = [e for e in c.events[-5000:] if e[0] > cursor]
                if fresh:
                    data = "".join('{"type":"%s","object":%s}\n' % (kind, text) for _, kind, text in fresh).encode()
                    cursor = fresh[-1][0]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass


def active_probes(sextant):
    with urllib.request.urlopen(sextant + "/api/v1/targets?state=active", timeout=5) as r:
        data = json.load(r)["data"]["activeTargets"]
    return {t["labels"].get("pod") for t in data}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=18080)
    ap.add_argument("--pods", type=int, default=10000)
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--sextant", default="")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=20)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    c = Cluster(a.pods)
    Handler.cluster = c
    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"fakeapi: {a.pods} pods on 127.0.0.1:{a.port}", flush=True)
    if not a.sextant:
        threading.Event().wait()
    time.sleep(a.warmup)

    stop = time.monotonic() + a.seconds
    changes = 0

    def churn():
        nonlocal changes
        interval = 1.0 / a.rate
        nxt = time.monotonic()
        while time.monotonic() < stop:
            i = random.randrange(a.pods)
            name = f"app-{i:05d}"
            c.put(c.pod(name, f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}", i, rev=changes))
            changes += 1
            nxt += interval
            time.sleep(max(0, nxt - time.monotonic()))

    threading.Thread(target=churn, daemon=True).start()
    appear, vanish = [], []
    n = 0
    while time.monotonic() < stop - 1:
        name = f"probe-{n}"
        pod = c.pod(name, "127.0.0.1", 7, labels={"probe": "true"})
        t0 = time.monotonic()
        c.put(pod)
        while name not in active_probes(a.sextant):
            if time.monotonic() - t0 > 10:
                break
            time.sleep(0.005)
        appear.append(time.monotonic() - t0)
        time.sleep(0.3)
        t0 = time.monotonic()
        c.delete(name)
        while name in active_probes(a.sextant):
            if time.monotonic() - t0 > 10:
                break
            time.sleep(0.005)
        vanish.append(time.monotonic() - t0)
        n += 1
        time.sleep(0.3)

    def pct(xs, p):
        xs = sorted(xs)
        return round(1000 * xs[min(len(xs) - 1, int(p * len(xs)))], 1) if xs else None

    result = {"pods": a.pods, "rate": a.rate, "seconds": a.seconds, "changes": changes, "probes": n,
              "appear_ms": {"p50": pct(appear, 0.5), "p99": pct(appear, 0.99), "max": pct(appear, 1)},
              "vanish_ms": {"p50": pct(vanish, 0.5), "p99": pct(vanish, 0.99), "max": pct(vanish, 1)}}
    print(json.dumps(result), flush=True)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
