import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization
import Testing
@testable import Server
@testable import TSDB
import Workloads

/// The data the stress run writes and checks, known by construction: 200 stable series, each
/// with a sample every 250 ms whose value follows from the series and the time.
enum StableData {
    static let series = ProcessInfo.processInfo.environment["SEXTANT_STRESS_SERIES"].flatMap(Int.init) ?? 200
    static let tick: Int64 = 250

    static func value(_ i: Int, at t: Int64) -> Double { Double(t / tick) + Double(i) / 1000 }
    static func group(_ i: Int) -> String { "g\(i % 4)" }

    /// Import lines for every stable series at tick time `t` (milliseconds).
    static func lines(at t: Int64) -> String {
        var out = ""
        for i in 0..<series {
            out += "stress_stable{series=\"\(i)\",group=\"\(group(i))\"} \(value(i, at: t)) \(t)\n"
        }
        return out
    }

    static func labels(_ i: Int) -> Labels {
        Labels(["__name__": "stress_stable", "series": "\(i)", "group": group(i)])
    }
}

/// What the run has done and found, shared by its tasks.
final class StressLog: Sendable {
    /// Time of the newest tick whose stable samples were all accepted.
    let written = Atomic<Int64>(0)
    let requests = Atomic<Int>(0)
    let failures = Locked<[String]>([])
    /// Set when the writer's samples were refused as older than the head's lower bound: the
    /// machine could not keep up with these settings, and answers after that would be checked
    /// against data that was never stored. The run stops there.
    let fellBehind = Atomic<Bool>(false)

    func fail(_ message: String) {
        failures.withLock { if $0.count < 30 { $0.append(message) } }
    }
}

/// Many clients at once against one server that ingests (import endpoint and a scrape loop),
/// compacts, applies retention, reloads and deletes, every answer checked against the data
/// known by construction: no error, no wrong value, no missing series.
@Suite(.serialized) struct StressTests {
    /// The store's block range; retention keeps 4.5 of them, checks reach 3.5 back.
    /// ThreadSanitizer runs, several times slower, use longer blocks so that the writer never
    /// falls behind the head's lower bound.
    static let blockRange = Int64(ProcessInfo.processInfo.environment["SEXTANT_STRESS_BLOCK_SECONDS"].flatMap(Int.init) ?? 20) * 1000

    static var seconds: Int {
        ProcessInfo.processInfo.environment["SEXTANT_STRESS_SECONDS"].flatMap(Int.init) ?? 40
    }

    @Test func parallelClientsDuringIngestionCompactionAndReload() async throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["SEXTANT_STRESS_SEED"] ?? "") ?? 20_261_130
        let clients = ProcessInfo.processInfo.environment["SEXTANT_STRESS_CLIENTS"].flatMap(Int.init) ?? 16
        let target = await FakeTarget()
        defer { target.stop() }
        target.set((0..<50).map { "stress_scraped{n=\"\($0)\"} \($0)" }.joined(separator: "\n") + "\n")
        let configFile = NSTemporaryDirectory() + "sextant-stress-\(UUID().uuidString).yml"
        defer { try? FileManager.default.removeItem(atPath: configFile) }
        try writeConfig(configFile, targetPort: target.port, round: 0)

        // 7.5 block ranges of history first, so blocks, merges and retention are there from
        // the start.
        let start = (Int64(Date().timeIntervalSince1970 * 1000) / StableData.tick) * StableData.tick
        let db = Self.dbOptions()
        let server = try await RunningServer.start(adminAPI: true, scraping: true) { options in
            // The 16 clients and their checks run in this process at nice 0: niced query
            // threads would lose the CPU to them (under ThreadSanitizer, almost entirely).
            options.workerNiceness = 0
            options.db = db
            options.configFile = configFile
            options.maxConcurrency = 20
        }
        defer { Task { await server.stop() } }
        try prefill(server, from: start - Self.blockRange * 15 / 2, to: start)
        let log = StressLog()
        log.written.store(start, ordering: .sequentiallyConsistent)

        var logger = Logger(label: "stress")
        logger.logLevel = .warning
        let compactor = Task {
            try await CompactionService(storage: server.server.storage, interval: .milliseconds(250), logger: logger).run()
        }
        // One connection per task: AsyncHTTPClient's default of 8 per host would queue the
        // other tasks, and a request queued longer than the connect timeout (10 s, reached
        // under ThreadSanitizer) fails without reaching the server.
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = clients + 3
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        let deadline = ContinuousClock.now + .seconds(Self.seconds)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await Self.writer(server, client, log, deadline, from: start) }
            group.addTask { await Self.operator(server, client, log, deadline, configFile, target.port) }
            for c in 0..<clients {
                let rng = SplitMix64(seed: seed &+ UInt64(c))
                group.addTask { await Self.queries(server, client, log, deadline, rng) }
            }
        }
        compactor.cancel()
        _ = try? await compactor.value

        let health = try await Self.fetch(client, server, "/-/healthy")
        try await client.shutdown()
        let failures = log.failures.withLock { $0 }
        let blocks = server.server.db?.blocks.count ?? 0
        print("stress: seed \(seed), \(log.requests.load(ordering: .relaxed)) requests, \(blocks) blocks at the end, \(failures.count) failures")
        #expect(failures.isEmpty, "seed \(seed): \(failures.joined(separator: "\n"))")
        #expect(health.status == 200)
        #expect(log.requests.load(ordering: .relaxed) > clients)
        #expect(blocks > 0)
    }

    static func dbOptions() -> DBOptions {
        var db = DBOptions()
        db.blockRange = blockRange
        db.maxBlockDuration = 3 * blockRange
        db.retentionTime = blockRange * 9 / 2
        return db
    }

    func writeConfig(_ path: String, targetPort: Int, round: Int) throws {
        try """
        global:
          scrape_interval: 500ms
        scrape_configs:
          - job_name: stress
            static_configs:
              - targets: ['127.0.0.1:\(targetPort)']
                labels: {round: "\(round)"}
        """.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// History written straight into the server's store, then compacted.
    func prefill(_ server: RunningServer, from: Int64, to: Int64) throws {
        let db = try #require(server.server.db)
        let app = db.appender()
        var t = from
        while t <= to {
            for i in 0..<StableData.series { try app.append(StableData.labels(i), t, StableData.value(i, at: t)) }
            t += StableData.tick
        }
        try app.commit()
        try db.compact()
    }

    // MARK: - Writers

    /// Every tick, the stable series and a set of churning series through the import endpoint.
    static func writer(_ server: RunningServer, _ client: HTTPClient, _ log: StressLog,
                       _ deadline: ContinuousClock.Instant, from start: Int64) async {
        var t = start
        while ContinuousClock.now < deadline {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let next = t + StableData.tick
            guard next <= now else {
                try? await Task.sleep(for: .milliseconds(next - now))
                continue
            }
            t = next
            // 20 live series whose ids change every 5 s: series come and go.
            let churn = (0..<20).map { "stress_live{id=\"\(t / 5000 % 1000)-\($0)\"} \($0) \(t)" }.joined(separator: "\n")
            do {
                let reply = try await post(client, server, "/api/v1/import/prometheus", body: StableData.lines(at: t) + churn + "\n")
                let accepted = (reply.json["data"] as? [String: Any])?["accepted"] as? Int
                guard reply.status == 200, accepted == StableData.series + 20 else {
                    if reply.text.contains("out of bounds") {
                        log.fail("import at \(t) refused as out of bounds: the writer fell \(Int64(Date().timeIntervalSince1970 * 1000) - t) ms behind; this machine is too slow for these settings (raise SEXTANT_STRESS_BLOCK_SECONDS or run the suite alone)")
                        log.fellBehind.store(true, ordering: .sequentiallyConsistent)
                        return
                    }
                    log.fail("import at \(t): \(reply.status) \(reply.text.prefix(300))")
                    continue
                }
                log.written.store(t, ordering: .sequentiallyConsistent)
            } catch {
                log.fail("import at \(t): \(error)")
            }
        }
    }

    /// Reloads with a changed target label every 3 s and deletes churned series every 2 s.
    static func `operator`(_ server: RunningServer, _ client: HTTPClient, _ log: StressLog,
                           _ deadline: ContinuousClock.Instant, _ configFile: String, _ targetPort: Int) async {
        var round = 0
        while ContinuousClock.now < deadline {
            try? await Task.sleep(for: .seconds(1))
            round += 1
            do {
                if round % 3 == 0 {
                    try StressTests().writeConfig(configFile, targetPort: targetPort, round: round)
                    let r = try await post(client, server, "/-/reload", body: "")
                    if r.status != 200 { log.fail("reload: \(r.status) \(r.text)") }
                }
                if round % 2 == 0 {
                    let r = try await post(client, server, "/api/v1/admin/tsdb/delete_series?match%5B%5D=" + q("stress_live{id=~\".*-1.*\"}"), body: "")
                    if r.status != 204 { log.fail("delete_series: \(r.status) \(r.text)") }
                }
            } catch {
                log.fail("operator: \(error)")
            }
        }
    }

    // MARK: - Readers

    /// One client: requests drawn from the mix until the deadline, each answer checked.
    static func queries(_ server: RunningServer, _ client: HTTPClient, _ log: StressLog,
                        _ deadline: ContinuousClock.Instant, _ rng: SplitMix64) async {
        var rng = rng
        while ContinuousClock.now < deadline && !log.fellBehind.load(ordering: .sequentiallyConsistent) {
            let w = log.written.load(ordering: .sequentiallyConsistent)
            // Anywhere in the last 4 block ranges (retention keeps 4.5): blocks, merged blocks
            // and the head. Requests reach back 10 s from `t`, the long range 3 block ranges.
            let kind = Int.random(in: 0..<12, using: &rng)
            let t = w - Int64.random(in: 0..<(kind == 10 ? blockRange : blockRange * 7 / 2 - 10_000), using: &rng)
            do {
                if let problem = try await request(kind, at: t, server, client) { log.fail("request \(kind) at \(t): \(problem)") }
            } catch {
                log.fail("request \(kind) at \(t): \(error)")
            }
            log.requests.add(1, ordering: .relaxed)
        }
    }

    /// Sends request `kind` about time `t` (inside the written range) and checks the answer;
    /// returns what is wrong with it, if anything.
    static func request(_ kind: Int, at t: Int64, _ server: RunningServer, _ client: HTTPClient) async throws -> String? {
        let time = secondsText(t)
        let from = secondsText(t - 10_000)
        switch kind {
        case 0:
            return checkVector(try await api(client, server, "/api/v1/query?query=stress_stable&time=\(time)"), at: t)
        case 1:
            let n = StableData.series
            let expected = Double(n) * Double(t / StableData.tick) + Double(n * (n - 1) / 2) / 1000
            return checkScalarVector(try await api(client, server, "/api/v1/query?query=\(q("sum(stress_stable)"))&time=\(time)"), expected)
        case 2:
            let data = try await api(client, server, "/api/v1/query_range?query=\(q("count(stress_stable)"))&start=\(from)&end=\(time)&step=1")
            return checkRange(data) { _ in Double(StableData.series) }
        case 3:
            let data = try await api(client, server, "/api/v1/query_range?query=\(q("stress_stable{series=\"17\"}"))&start=\(from)&end=\(time)&step=1")
            return checkRange(data) { StableData.value(17, at: $0) }
        case 4:
            let expr = q("max_over_time(stress_stable{series=\"5\"}[2s])")
            return checkScalarVector(try await api(client, server, "/api/v1/query?query=\(expr)&time=\(time)"), StableData.value(5, at: t))
        case 5:
            let data = try await api(client, server, "/api/v1/series?match%5B%5D=stress_stable&start=\(from)&end=\(time)")
            let n = (data as? [[String: String]])?.count ?? -1
            return n == StableData.series ? nil : "series: \(n) of \(StableData.series)"
        case 6:
            let data = try await api(client, server, "/api/v1/labels?match%5B%5D=stress_stable&start=\(from)&end=\(time)")
            return data as? [String] == ["__name__", "group", "series"] ? nil : "labels: \(String(describing: data))"
        case 7:
            let data = try await api(client, server, "/api/v1/label/series/values?match%5B%5D=stress_stable&start=\(from)&end=\(time)")
            let n = (data as? [String])?.count ?? -1
            return n == StableData.series ? nil : "label values: \(n) of \(StableData.series)"
        case 8:
            return checkFederation(try await fetch(client, server, "/federate?match%5B%5D=stress_stable"))
        case 10:
            // Three block ranges in 12 steps: the head and every block of that span at once.
            let from = secondsText(t - 3 * blockRange), step = Double(blockRange) / 4000
            let data = try await api(client, server, "/api/v1/query_range?query=\(q("count(stress_stable)"))&start=\(from)&end=\(time)&step=\(step)")
            return checkRange(data, points: 13) { _ in Double(StableData.series) }
        case 9:
            let data = try await api(client, server, "/api/v1/query?query=\(q("count({__name__=~\"stress_.+\"})"))&time=\(time)")
            let n = Double(((data as? [String: Any])?["result"] as? [[String: Any]])?.first.flatMap(sampleValue) ?? "") ?? -1
            return n >= Double(StableData.series) ? nil : "count of stress_ series: \(n)"
        default:
            // Live and scraped data change under the request: only the answer's success counts.
            let exprs = ["rate(stress_live[5s])", "sum by (round) (stress_scraped)", "up{job=\"stress\"}", "stress_live"]
            let expr = exprs[Int(t / StableData.tick) % exprs.count]
            _ = try await api(client, server, "/api/v1/query_range?query=\(q(expr))&start=\(from)&end=\(time)&step=0.5")
            return nil
        }
    }

    // MARK: - Checks

    static func checkVector(_ data: Any, at t: Int64) -> String? {
        guard let result = (data as? [String: Any])?["result"] as? [[String: Any]] else { return "no result" }
        guard result.count == StableData.series else { return "\(result.count) of \(StableData.series) series" }
        for r in result {
            guard let metric = r["metric"] as? [String: String], let i = metric["series"].flatMap(Int.init),
                  metric == ["__name__": "stress_stable", "series": "\(i)", "group": StableData.group(i)],
                  let v = sampleValue(r).flatMap(Double.init) else { return "malformed sample \(r)" }
            if v != StableData.value(i, at: t) { return "series \(i): \(v), expected \(StableData.value(i, at: t))" }
        }
        return nil
    }

    static func checkScalarVector(_ data: Any, _ expected: Double) -> String? {
        guard let result = (data as? [String: Any])?["result"] as? [[String: Any]], result.count == 1,
              let v = sampleValue(result[0]).flatMap(Double.init) else { return "not one sample: \(data)" }
        return abs(v - expected) <= 1e-9 * abs(expected) ? nil : "\(v), expected \(expected)"
    }

    /// One series with `points` points, each as `expected` says.
    static func checkRange(_ data: Any, points: Int = 11, _ expected: (Int64) -> Double) -> String? {
        guard let result = (data as? [String: Any])?["result"] as? [[String: Any]], result.count == 1,
              let values = result[0]["values"] as? [[Any]] else { return "not one series: \(data)" }
        guard values.count == points else { return "\(values.count) points of \(points)" }
        for p in values {
            guard p.count == 2, let ts = p[0] as? Double, let v = (p[1] as? String).flatMap(Double.init) else { return "malformed point \(p)" }
            let want = expected(Int64((ts * 1000).rounded()))
            if abs(v - want) > 1e-9 * abs(want) { return "at \(ts): \(v), expected \(want)" }
        }
        return nil
    }

    /// Every stable series once, each value the one its timestamp says.
    static func checkFederation(_ reply: RunningServer.Reply) -> String? {
        guard reply.status == 200 else { return "federate: \(reply.status) \(reply.text.prefix(200))" }
        var seen = Set<Int>()
        for line in reply.text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count == 3, let v = Double(parts[1]), let t = Int64(parts[2]),
                  let open = line.range(of: "series=\""), let close = line[open.upperBound...].firstIndex(of: "\""),
                  let i = Int(line[open.upperBound..<close]) else { return "federate: malformed line \(line)" }
            if v != StableData.value(i, at: t) { return "federate: series \(i) at \(t): \(v)" }
            seen.insert(i)
        }
        return seen.count == StableData.series ? nil : "federate: \(seen.count) of \(StableData.series) series"
    }

    static func sampleValue(_ r: [String: Any]) -> String? { (r["value"] as? [Any])?.last as? String }

    static func secondsText(_ t: Int64) -> String { String(format: "%.3f", Double(t) / 1000) }

    // MARK: - HTTP

    /// The `data` of a successful API answer; throws with the body otherwise.
    static func api(_ client: HTTPClient, _ server: RunningServer, _ path: String) async throws -> Any {
        let reply = try await fetch(client, server, path)
        let json = reply.json
        guard reply.status == 200, json["status"] as? String == "success", let data = json["data"] else {
            throw StressError.answer("\(path): \(reply.status) \(reply.text.prefix(300))")
        }
        return data
    }

    static func fetch(_ client: HTTPClient, _ server: RunningServer, _ path: String) async throws -> RunningServer.Reply {
        try await send(client, HTTPClientRequest(url: "http://127.0.0.1:\(server.port)\(path)"))
    }

    static func post(_ client: HTTPClient, _ server: RunningServer, _ path: String, body: String) async throws -> RunningServer.Reply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(server.port)\(path)")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: body))
        return try await send(client, request)
    }

    static func send(_ client: HTTPClient, _ request: HTTPClientRequest) async throws -> RunningServer.Reply {
        let response = try await client.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 64 << 20)
        return RunningServer.Reply(status: Int(response.status.code), body: Data(buffer: body))
    }

    enum StressError: Error { case answer(String) }
}
