import Exposition
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import TestSupport
import PromQL
@testable import Scrape
@testable import Server
@testable import TSDB

/// A loopback HTTP target whose answer the test sets.
final class FakeTarget: Sendable {
    final class Reply: Sendable {
        let value = Locked<(status: HTTPResponse.Status, body: [UInt8], contentType: String, gzipped: Bool)>(
            (.ok, [], "text/plain; version=0.0.4", false))
    }

    let reply = Reply()
    let task: LoopbackServer
    let port: Int

    init() async {
        let reply = self.reply
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            let r = reply.value.withLock { $0 }
            var headers: HTTPFields = [.contentType: r.contentType]
            if r.gzipped { headers[.contentEncoding] = "gzip" }
            return Response(status: r.status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: r.body)))
        }
        (task, port) = await startLoopback(router)
    }

    func set(_ body: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; version=0.0.4") {
        reply.value.withLock { $0 = (status, Array(body.utf8), contentType, false) }
    }

    /// Answers with `body` gzipped (`Content-Encoding: gzip`).
    func setGzipped(_ body: [UInt8]) {
        let zipped = gzip(body, level: 9) ?? []
        reply.value.withLock { $0 = (.ok, zipped, "text/plain; version=0.0.4", true) }
    }

    func stop() { task.cancel() }
}

/// The scrape target of a fake target's /metrics, with extra discovered labels.
func scrapeTarget(_ target: FakeTarget, _ labels: [String: String] = [:], job: String = "j",
                  interval: Int64 = 15_000, timeout: Int64 = 2_000) throws -> ScrapeTarget {
    var discovered = labels
    discovered["__address__"] = "127.0.0.1:\(target.port)"
    return try #require(ScrapeTarget.make(discovered: Labels(discovered), job: job, scheme: "http", metricsPath: "/metrics",
                                          params: [:], interval: interval, timeout: timeout, relabel: []))
}

/// A loop scraping `t` into `head` with the manager's client.
func scrapeLoop(_ t: ScrapeTarget, _ head: Head, _ manager: ScrapeManager) -> ScrapeLoop {
    ScrapeLoop(target: t, storage: head, client: manager.client, logger: Logger(label: "test"))
}

@Suite(.serialized) struct ScrapeLoopTests {
    func instant(_ head: Head, _ q: String, at t: Int64) throws -> [String: Double] {
        guard case .vector(let v) = try Engine().instantQuery(q, at: t, on: head) else { return [:] }
        return Dictionary(uniqueKeysWithValues: v.map { ($0.labels.description, $0.v) })
    }

    @Test func scrapesLabelsStalenessAndFailures() async throws {
        let target = await FakeTarget()
        defer { target.stop() }
        let head = Head()
        let manager = runningScrapeManager(storage: head)
        defer { Task { await manager.shutdown() } }
        var t = try scrapeTarget(target, ["team": "x"], job: "node")
        t.sampleLimit = 3
        let loop = scrapeLoop(t, head, manager)
        let instance = "127.0.0.1:\(target.port)"

        target.set("# TYPE a counter\na_total{code=\"200\"} 5\na_total{code=\"500\"} 1\nb{job=\"exported\"} 3 1000\n")
        await loop.scrapeOnce(at: 10_000)
        #expect(loop.health.health == "up")
        var got = try instant(head, "{__name__=~\"a_total|b|up\"}", at: 10_000)
        #expect(got["a_total{code=\"200\", instance=\"\(instance)\", job=\"node\", team=\"x\"}"] == 5)
        #expect(got["b{exported_job=\"exported\", instance=\"\(instance)\", job=\"node\", team=\"x\"}"] == 3)
        #expect(got["up{instance=\"\(instance)\", job=\"node\", team=\"x\"}"] == 1)
        let added = try instant(head, "scrape_series_added", at: 10_000)
        #expect(added.values.first == 3)

        // A series that leaves the target gets a stale marker: gone at once, not after 5m.
        target.set("a_total{code=\"200\"} 6\n")
        await loop.scrapeOnce(at: 25_000)
        got = try instant(head, "a_total", at: 25_000)
        #expect(got.count == 1 && got.values.first == 6)

        // Over the sample limit: the scrape fails, up is 0, nothing of it is stored.
        target.set("a_total{code=\"200\"} 7\nc 1\nd 1\ne 1\n")
        await loop.scrapeOnce(at: 40_000)
        #expect(loop.health.health == "down" && loop.health.lastError.contains("sample limit"))
        #expect(try instant(head, "up", at: 40_000).values.first == 0)
        #expect(try instant(head, "c", at: 40_000).isEmpty)
        #expect(try instant(head, "a_total", at: 40_000).isEmpty)    // marked stale by the failed scrape

        // Garbage and HTTP errors mark the target down with a reason.
        target.set("this is { not metrics\n")
        await loop.scrapeOnce(at: 55_000)
        #expect(loop.health.health == "down" && !loop.health.lastError.isEmpty)
        target.set("x 1\n", status: .internalServerError)
        await loop.scrapeOnce(at: 70_000)
        #expect(loop.health.lastError.contains("500"))

        // Metadata of the families is kept per target.
        target.set("# HELP a_total Requests.\n# TYPE a_total counter\na_total{code=\"200\"} 8\n")
        await loop.scrapeOnce(at: 72_000)
        #expect(loop.metadata["a_total"] == MetricMetadata(type: "counter", help: "Requests.", unit: ""))
        await loop.scrapeOnce(at: 72_500)       // the same comments again: read once, kept
        #expect(loop.metadata["a_total"] == MetricMetadata(type: "counter", help: "Requests.", unit: ""))
        target.set("# HELP a_total Requests served.\n# TYPE a_total counter\na_total{code=\"200\"} 9\n")
        await loop.scrapeOnce(at: 73_000)       // a changed HELP is noticed
        #expect(loop.metadata["a_total"] == MetricMetadata(type: "counter", help: "Requests served.", unit: ""))

        // OpenMetrics bodies are chosen by content type.
        target.set("# TYPE om counter\nom_total 3 100.5\n# EOF\n", contentType: "application/openmetrics-text; version=1.0.0")
        await loop.scrapeOnce(at: 85_000)
        #expect(loop.health.health == "up")
        #expect(try instant(head, "om_total", at: 110_000).values.first == 3)
    }

    /// A series the head dropped while its target was failing (long enough for truncation to
    /// take it) is created again when the target is back, though its text is still cached.
    @Test func cachedSeriesComeBackAfterTheHeadDroppedThem() async throws {
        let target = await FakeTarget()
        defer { target.stop() }
        let head = Head()
        let manager = runningScrapeManager(storage: head)
        defer { Task { await manager.shutdown() } }
        let t = try scrapeTarget(target)
        let loop = scrapeLoop(t, head, manager)
        target.set("m 1\nkeep 1\n")
        await loop.scrapeOnce(at: 1_000)
        target.set("", status: .internalServerError)
        await loop.scrapeOnce(at: 2_000)                // down: its series go stale
        _ = try head.chunksForBlock(mint: 0, maxt: 2_500)  // the range goes to a block...
        head.truncate(before: 2_500)                    // ...and the series, with nothing newer, leave the head
        #expect(head.labels(of: try #require(loop.cache.ref(for: Array("m".utf8)[...]))) == nil)
        target.set("m 5\nkeep 3\n")
        await loop.scrapeOnce(at: 3_000)
        #expect(loop.health.health == "up")
        #expect(try instant(head, "m", at: 3_000).values.first == 5)
        #expect(try instant(head, "keep", at: 3_000).values.first == 3)
        #expect(try instant(head, "scrape_series_added", at: 3_000).values.first == 2, "m and keep both came back")
        target.set("m 6\nkeep 4\n")
        await loop.scrapeOnce(at: 4_000)                // through the new handle
        #expect(try instant(head, "m", at: 4_000).values.first == 6)
    }

    /// Series that leave a target get their stale marker, then leave the scrape cache: a target
    /// whose series churn (a label that changes every scrape) keeps a cache of one scrape.
    @Test func churningSeriesDoNotGrowTheCache() async throws {
        let target = await FakeTarget()
        defer { target.stop() }
        let head = Head()
        let manager = runningScrapeManager(storage: head)
        defer { Task { await manager.shutdown() } }
        var t = try scrapeTarget(target)
        t.metricRelabel = [try RelabelConfig(sourceLabels: ["__name__"], regex: "ignored", action: .drop)]
        let loop = scrapeLoop(t, head, manager)
        for k in 0..<20 {
            target.set("requests{pod=\"p\(k)\"} \(k)\nrequests{pod=\"p\(k + 1)\"} \(k)\nignored{pod=\"p\(k)\"} 1\nsteady 1\n")
            await loop.scrapeOnce(at: Int64(k + 1) * 1_000)
            #expect(loop.health.health == "up")
            #expect(loop.cache.count == 4, "scrape \(k): \(loop.cache.count) entries")
        }
        // p18 left with the last scrape: stale there; p19 and p20 are live; the dropped series is not stored.
        let live = try instant(head, "requests", at: 20_000)
        #expect(live.count == 2 && Set(live.keys.map { $0.contains("p19") || $0.contains("p20") }) == [true])
        #expect(try instant(head, "steady", at: 20_000).values.first == 1)
        #expect(try instant(head, "ignored", at: 20_000).isEmpty)
        #expect(try instant(head, "scrape_series_added", at: 20_000).values.first == 1)
    }

    /// A sample the head refuses (older than what it has) is skipped; the rest of the scrape
    /// is stored and the target stays up, as in Prometheus.
    @Test func refusedSamplesCostOnlyThemselves() async throws {
        let target = await FakeTarget()
        defer { target.stop() }
        let head = Head()
        let manager = runningScrapeManager(storage: head)
        defer { Task { await manager.shutdown() } }
        let t = try scrapeTarget(target)
        target.set("old 1 5000\nnow 1\n")
        let first = scrapeLoop(t, head, manager)
        await first.scrapeOnce(at: 6_000)
        // A fresh loop (as after a restart) meets `old` with an older timestamp, first uncached...
        target.set("old 2 4000\nnow 2\n")
        let second = scrapeLoop(t, head, manager)
        await second.scrapeOnce(at: 7_000)
        #expect(second.health.health == "up")
        #expect(try instant(head, "now", at: 7_000).values.first == 2)
        // ...then cached.
        target.set("old 3 5000\nnow 3\n")
        await first.scrapeOnce(at: 8_000)
        #expect(first.health.health == "up")
        #expect(try instant(head, "now", at: 8_000).values.first == 3)
        #expect(try instant(head, "old", at: 8_000).values.first == 1)
    }

    /// A running loop scrapes once per interval, never twice in one, and stamps its samples
    /// at its offset within the interval when the timer is on time.
    @Test func runningLoopsTickOncePerInterval() async throws {
        let target = await FakeTarget()
        defer { target.stop() }
        target.set("m 1\n")
        let head = Head()
        let manager = runningScrapeManager(storage: head)
        let t = try scrapeTarget(target, interval: 200, timeout: 200)
        manager.apply(targets: [t])
        try await Task.sleep(for: .milliseconds(1500))
        await manager.shutdown()
        let q = head.headQuerier(mint: 0, maxt: .max)
        var set = q.select([.equal("__name__", "up")], hints: nil)
        let found = set.next()
        #expect(found)
        var it = set.at().makeIterator()
        var samples: [(Int64, Double)] = []
        while it.next() { samples.append(it.at()) }
        #expect(samples.last?.1.isNaN == true, "stopping the loop marks up stale")
        let times = samples.filter { !$0.1.isNaN }.map(\.0)
        #expect((3...8).contains(times.count), "\(times)")
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        #expect(gaps.allSatisfy { $0 > 100 }, "no interval scraped twice: \(gaps)")
        let offset = scrapeLoop(t, head, manager).offset
        #expect(times.contains { $0 % 200 == offset }, "stamped on the offset: \(times), offset \(offset)")
    }

    /// A body past the event-loop limit is appended on the task pool; stopping the loop while
    /// one is being appended waits for it, then marks the target's series stale.
    @Test func largeBodiesAreAppendedOffTheEventLoop() async throws {
        let target = await FakeTarget()
        defer { target.stop() }
        let body = (0..<30_000).map { "big_metric{id=\"\($0)\",pad=\"aaaaaaaaaa\"} \($0)\n" }.joined()
        #expect(body.utf8.count > ScrapeSchedule.defaultInlineLimit)
        target.set(body)
        let head = Head()
        let manager = runningScrapeManager(storage: head)
        let t = try scrapeTarget(target, interval: 300, timeout: 5_000)
        manager.apply(targets: [t])
        var up = 0.0
        for _ in 0..<100 where up == 0 {
            try await Task.sleep(for: .milliseconds(100))
            up = try instant(head, "up", at: ScrapeLoop.now()).values.first ?? 0
        }
        #expect(up == 1)
        await manager.shutdown()
        let q = head.headQuerier(mint: 0, maxt: .max)
        var set = q.select([.equal("__name__", "big_metric"), .equal("id", "29999")], hints: nil)
        let found = set.next()
        #expect(found)
        var it = set.at().makeIterator()
        var samples: [(Int64, Double)] = []
        while it.next() { samples.append(it.at()) }
        #expect(samples.first?.1 == 29_999)
        #expect(samples.last?.1.isNaN == true, "stopping marks the series stale")
        #expect(head.stats.series >= 30_000)
    }

    @Test func labelLimitsFailTheScrape() async throws {
        let target = await FakeTarget()
        defer { target.stop() }
        let head = Head()
        let manager = runningScrapeManager(storage: head)
        defer { Task { await manager.shutdown() } }
        var t = try scrapeTarget(target)
        t.labelValueLengthLimit = 5
        let loop = scrapeLoop(t, head, manager)
        target.set("m{short=\"abc\"} 1\n")
        await loop.scrapeOnce(at: 1_000)
        #expect(loop.health.health == "down", "the instance label is longer than 5")
        #expect(loop.health.lastError.contains("label_value_length_limit exceeded"))
    }

    /// A gzip bomb: 64 MiB of metric text in about 64 KiB. The decompressed size is what
    /// body_size_limit holds, and without one a default cap still does.
    @Test func gzipBodiesAreHeldToTheLimitDecompressed() async throws {
        let target = await FakeTarget()
        defer { target.stop() }
        let head = Head()
        let manager = runningScrapeManager(storage: head)
        defer { Task { await manager.shutdown() } }
        var t = try scrapeTarget(target)
        t.bodySizeLimit = 1 << 20
        let loop = scrapeLoop(t, head, manager)
        let bomb = Array("m 1\n# ".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 64 << 20)
        target.setGzipped(bomb)
        await loop.scrapeOnce(at: 1_000)
        #expect(loop.health.health == "down")
        #expect(loop.health.lastError.contains("body size limit exceeded"), "\(loop.health.lastError)")
        #expect(try ScrapeLoopTests().instant(head, "up", at: 1_000).values.first == 0)

        // Within the limit the same encoding is scraped.
        target.setGzipped(Array("m 1\n# ".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 10) + Array("\nn 2\n".utf8))
        await loop.scrapeOnce(at: 2_000)
        #expect(loop.health.health == "up", "\(loop.health.lastError)")
        #expect(try ScrapeLoopTests().instant(head, "n", at: 2_000).values.first == 2)

        // body_size_limit 0 (Prometheus' "no limit") still has a cap.
        #expect(BodyCollector(limit: 0).limit == BodyCollector.defaultLimit)
        #expect(BodyCollector(limit: 5).limit == 5)
    }

    @Test func targetsFollowPrometheusRelabelingRules() throws {
        let relabel = [try RelabelConfig(sourceLabels: ["__meta_port"], targetLabel: "__address__", regex: "(.*)", replacement: "host:$1"),
                       try RelabelConfig(sourceLabels: ["__meta_skip"], regex: "yes", action: .drop)]
        let t = try #require(ScrapeTarget.make(discovered: Labels(["__meta_port": "9100", "__address__": "ignored:1"]), job: "j",
                                               scheme: "https", metricsPath: "/m", params: ["module": ["x y"], "target": ["ä/é&=?"]],
                                               interval: 30_000, timeout: 5_000, relabel: relabel))
        // As Go's url.Values encodes them: a space as +, every non-ASCII byte escaped.
        #expect(t.url == "https://host:9100/m?module=x+y&target=%C3%A4%2F%C3%A9%26%3D%3F")
        #expect(t.labels == Labels(["instance": "host:9100", "job": "j"]))
        #expect(ScrapeTarget.make(discovered: Labels(["__meta_skip": "yes", "__address__": "a:1"]), job: "j", scheme: "http",
                                  metricsPath: "/metrics", params: [:], interval: 1, timeout: 1, relabel: relabel) == nil)
    }

    @Test func serveScrapesItselfAndListsTheTarget() async throws {
        let s = try await RunningServer.start(selfScrapeInterval: 300)
        defer { Task { await s.stop() } }
        s.server.startAndRunScraping()
        var up: Double?
        for _ in 0..<150 where up == nil {
            try await Task.sleep(for: .milliseconds(100))
            let r = try await s.get("/api/v1/query?query=\(q("up{job=\"sextant\"}"))")
            let result = ((r.json["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
            up = result.first.flatMap { ($0["value"] as? [Any])?.last as? String }.flatMap(Double.init)
        }
        #expect(up == 1)
        let targets = try await s.get("/api/v1/targets")
        let active = ((targets.json["data"] as? [String: Any])?["activeTargets"] as? [[String: Any]]) ?? []
        #expect(active.count == 1)
        #expect(active.first?["health"] as? String == "up")
        #expect(active.first?["scrapePool"] as? String == "sextant")
        let metadata = try await s.get("/api/v1/targets/metadata?metric=sextant_tsdb_head_series")
        let entries = (metadata.json["data"] as? [[String: Any]]) ?? []
        #expect(entries.first?["type"] as? String == "gauge")
        #expect(((entries.first?["target"] as? [String: String])?["job"]) == "sextant")
        let all = try await s.get("/api/v1/metadata?metric=sextant_http_requests_total")
        #expect(all.text.contains("\"type\":\"counter\""))
        await s.server.stopScraping()
    }
}

@Suite struct TargetsAPITests {
    /// `state` picks active or dropped targets (Prometheus' parameter); both by default.
    @Test func stateSelectsActiveOrDroppedTargets() async throws {
        let dir = NSTemporaryDirectory() + "sextant-targets-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
        scrape_configs:
          - job_name: j
            scrape_interval: 1h
            static_configs: [{targets: ['127.0.0.1:1', '127.0.0.1:2']}]
            relabel_configs: [{source_labels: [__address__], regex: '.*:2', action: drop}]
        """.write(toFile: dir + "/p.yml", atomically: true, encoding: .utf8)
        let s = try await RunningServer.start(scraping: true) { $0.configFile = dir + "/p.yml" }
        defer { Task { await s.stop() } }
        func counts(_ query: String) async throws -> (Int, Int) {
            let data = try await s.get("/api/v1/targets" + query).json["data"] as? [String: Any]
            return ((data?["activeTargets"] as? [Any])?.count ?? -1, (data?["droppedTargets"] as? [Any])?.count ?? -1)
        }
        #expect(try await counts("") == (1, 1))
        #expect(try await counts("?state=any") == (1, 1))
        #expect(try await counts("?state=active") == (1, 0))
        #expect(try await counts("?state=Dropped") == (0, 1))
    }
}

@Suite(.serialized) struct ReloadTests {
    @Test func reloadKeepsStartsAndStopsLoopsAndRefusesBadFiles() async throws {
        let a = await FakeTarget(), b = await FakeTarget(), c = await FakeTarget()
        defer { a.stop(); b.stop(); c.stop() }
        for t in [a, b, c] { t.set("m 1\n") }
        let dir = NSTemporaryDirectory() + "sextant-reload-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/prometheus.yml"
        func write(_ targets: [FakeTarget]) throws {
            let list = targets.map { "'127.0.0.1:\($0.port)'" }.joined(separator: ", ")
            try "scrape_configs:\n  - job_name: fake\n    scrape_interval: 1s\n    static_configs: [{targets: [\(list)]}]\n"
                .write(toFile: file, atomically: true, encoding: .utf8)
        }
        try write([a, b])
        var options = ServerOptions()
        options.dataDirectory = dir + "/data"
        options.configFile = file
        let server = SextantServer(options: options, logger: Logger(label: "test"))
        try server.openStorage()
        defer { server.db?.close() }
        server.startScraping()
        let manager = try #require(server.scraping.manager.withLock { $0 })
        #expect(manager.active.count == 2)
        let kept = try #require(manager.active.first { $0.target.url.contains(":\(a.port)/") })

        try write([a, c])
        try server.reloadScrapeConfig()
        #expect(manager.active.count == 2)
        #expect(manager.active.contains { $0 === kept }, "a target that stays keeps its loop")
        #expect(manager.active.contains { $0.target.url.contains(":\(c.port)/") })
        #expect(!manager.active.contains { $0.target.url.contains(":\(b.port)/") })

        try "scrape_configs: [{job_name: x, bogus: 1}]\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: ConfigError.self) { try server.reloadScrapeConfig() }
        #expect(manager.active.count == 2, "a bad file leaves the running configuration alone")
        await server.stopScraping()
    }
}

@Suite(.serialized) struct BadTargetTests {
    /// Targets that hang, answer 500, send garbage or close mid-body are each marked down with
    /// a reason, while a good target scraped beside them stays up.
    @Test func badTargetsDoNotDisturbGoodOnes() async throws {
        let router = Router()
        router.get("/good") { _, _ in "ok_metric 1\n" }
        router.get("/hang") { _, _ -> String in
            try await Task.sleep(for: .seconds(5))
            return "late 1\n"
        }
        router.get("/error") { _, _ in Response(status: .internalServerError) }
        router.get("/garbage") { _, _ in "{{{ not metrics }}}\n" }
        router.get("/cut") { _, _ -> Response in
            // Announces more bytes than it sends, then the stream fails: the connection closes mid-body.
            Response(status: .ok, headers: [.contentLength: "100000"], body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "partial_metric 1\npartial"))
                throw CancellationError()
            })
        }
        let (server, port) = await startLoopback(router)
        defer { server.cancel() }
        let head = Head()
        let manager = runningScrapeManager(storage: head)
        var loops: [String: ScrapeLoop] = [:]
        for path in ["/good", "/hang", "/error", "/garbage", "/cut"] {
            let t = try #require(ScrapeTarget.make(discovered: Labels(["__address__": "127.0.0.1:\(port)", "case": String(path.dropFirst())]),
                                                   job: "mixed", scheme: "http", metricsPath: path, params: [:],
                                                   interval: 15_000, timeout: 2_000, relabel: []))
            loops[path] = scrapeLoop(t, head, manager)
        }
        await withTaskGroup(of: Void.self) { group in
            for loop in loops.values { group.addTask { await loop.scrapeOnce(at: 1_000) } }
        }
        #expect(loops["/good"]?.health.health == "up")
        for path in ["/hang", "/error", "/garbage", "/cut"] {
            let h = try #require(loops[path]?.health)
            #expect(h.health == "down" && !h.lastError.isEmpty, "\(path): \(h.lastError)")
        }
        guard case .vector(let up) = try Engine().instantQuery("up", at: 1_000, on: head) else { return }
        let byCase = Dictionary(uniqueKeysWithValues: up.map { ($0.labels["case"] ?? "", $0.v) })
        #expect(byCase == ["good": 1, "hang": 0, "error": 0, "garbage": 0, "cut": 0])
        guard case .vector(let ok) = try Engine().instantQuery("ok_metric", at: 1_000, on: head) else { return }
        #expect(ok.count == 1)
        guard case .vector(let partial) = try Engine().instantQuery("partial_metric", at: 1_000, on: head) else { return }
        #expect(partial.isEmpty, "nothing of a cut body is stored")
        await manager.shutdown()
    }
}

@Suite(.serialized) struct FileDiscoveryWatchTests {
    @Test func changedFilesAreNoticed() async throws {
        let dir = NSTemporaryDirectory() + "sextant-watch-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try #"[{"targets": ["a:1"]}]"#.write(toFile: dir + "/t.json", atomically: true, encoding: .utf8)
        let config = try PrometheusConfig.parse("scrape_configs:\n  - job_name: f\n    file_sd_configs: [{files: ['\(dir)/*.json'], refresh_interval: 1h}]\n")
        let manager = runningScrapeManager(storage: Head())
        let discovery = runningDiscovery(DiscoveryManager(manager: manager, logger: Logger(label: "test")))
        discovery.apply(config)
        #expect(manager.active.map(\.target.url) == ["http://a:1/metrics"])
        try await Task.sleep(for: .milliseconds(1100))     // a new modification time
        try #"[{"targets": ["a:1", "b:2"]}]"#.write(toFile: dir + "/t.json", atomically: true, encoding: .utf8)
        for _ in 0..<60 where manager.active.count < 2 { try await Task.sleep(for: .milliseconds(100)) }
        #expect(Set(manager.active.map(\.target.url)) == ["http://a:1/metrics", "http://b:2/metrics"])
        discovery.stop()
        await manager.shutdown()
    }
}

/// Scraping as services under a ServiceGroup, as `sextant serve` runs them: graceful shutdown
/// stops every loop and provider, the loops mark their series stale on the way out, and both
/// services return.
@Suite struct ScrapeServiceTests {
    @Test func gracefulShutdownStopsLoopsAndMarksSeriesStale() async throws {
        let target = await FakeTarget()
        defer { target.stop() }
        target.set("served 1\n")
        let head = Head()
        let manager = ScrapeManager(storage: head, logger: Logger(label: "test"))
        let discovery = DiscoveryManager(manager: manager, logger: Logger(label: "test"))
        // Applied before the services run: the loops start with them.
        discovery.apply(try PrometheusConfig.parse("""
            scrape_configs:
              - job_name: svc
                scrape_interval: 200ms
                static_configs: [{targets: ["127.0.0.1:\(target.port)"]}]
            """))
        #expect(manager.active.count == 1)
        let group = ServiceGroup(configuration: .init(services: [manager, discovery], logger: Logger(label: "test")))
        let running = Task { try await group.run() }

        func samples() throws -> [Double] {
            let q = head.querier(mint: 0, maxt: .max).select([.equal("__name__", "served")], hints: nil)
            var set = q
            guard set.next() else { return [] }
            var it = set.at().makeIterator()
            var out: [Double] = []
            while it.next() { out.append(it.at().v) }
            return out
        }
        #expect(await eventually(20) { ((try? samples()) ?? []).count >= 2 })

        await group.triggerGracefulShutdown()
        try await running.value
        let stored = try samples()
        #expect(stored.last?.bitPattern == staleMarker.bitPattern, "the loop marked its series stale: \(stored)")
        // Stale markers between are scrapes that missed their 200 ms timeout on a busy machine.
        #expect(stored.dropLast().allSatisfy { $0 == 1 || $0.bitPattern == staleMarker.bitPattern }, "\(stored)")
        #expect(manager.active.isEmpty)
        // After shutdown, nothing starts again.
        manager.apply(targets: [try scrapeTarget(target)])
        #expect(manager.active.isEmpty)
    }
}
