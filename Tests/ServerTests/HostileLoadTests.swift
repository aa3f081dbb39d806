import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport

/// The built `sextant` binary under 16 clients sending heavy and hostile PromQL at once, with
/// every query slot busy, while a prober asks for `/-/healthy`, `/-/ready` and `/metrics`:
/// every query gets a typed answer, every probe is answered, the history is intact afterwards
/// and ingestion goes on. `SEXTANT_HOSTILE_SECONDS` sets the load's length (default 8);
/// `SEXTANT_BINARY` runs a release build, and the health latencies are printed to quote.
@Suite(.serialized) struct HostileLoadTests {
    static let series = 2_000
    static let hours = 6

    /// Query forms of /api/v1/query_range and /api/v1/query: heavy ones over every series,
    /// regexes that make a backtracking engine run for ages, deep nesting, parse errors,
    /// extreme times and allocation bombs.
    static func requests(now: Int64) -> [(path: String, form: [(String, String)])] {
        let start = "\(now / 1000 - Int64(hours) * 3600)", end = "\(now / 1000)"
        let range = { (q: String) in ("/api/v1/query_range", [("query", q), ("start", start), ("end", end), ("step", "15")]) }
        let instant = { (q: String) in ("/api/v1/query", [("query", q)]) }
        let doubling = (0..<40).reduce(#"label_replace(vector(1), "a", "xxxxxxxx", "", "")"#) { inner, _ in
            #"label_replace(\#(inner), "a", "$1$1", "a", "(.*)")"#
        }
        return [
            range(#"sum by (job) (rate({__name__=~"m.+"}[1h]))"#),
            range(#"quantile_over_time(0.9, {__name__=~".+"}[1h])"#),
            range(#"count_over_time({__name__=~"(a|aa)+|m(1|11)+.*"}[6h])"#),
            range(#"{__name__=~".+"}"#),
            instant(#"label_replace({__name__=~".+"}, "x", "$1", "job", "(a|aa)+(.*)")"#),
            instant((0..<100_000).map { _ in "1" }.joined(separator: "-")),
            instant(String(repeating: "(", count: 50_000) + "1" + String(repeating: ")", count: 50_000)),
            instant("sum(rate(m0[5m]) by (job)"),
            instant("up{"),
            instant("count_over_time(vector(1)[1y:1ms])"),
            instant(doubling),
            instant("up offset -292471208y"),
            ("/api/v1/query_range", [("query", "up"), ("start", "-9e15"), ("end", "9e15"), ("step", "1")]),
            ("/api/v1/series", [("match[]", #"{__name__=~"(a|aa)+.*|m.*"}"#)]),
        ]
    }

    @Test func sixteenHostileClientsWhileHealthStaysAnswered() async throws {
        let environment = ProcessInfo.processInfo.environment
        let seconds = Double(environment["SEXTANT_HOSTILE_SECONDS"] ?? "") ?? 8
        let dir = NSTemporaryDirectory() + "sextant-hostile-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A job with credentials (its target never answers), to see that they are not shown.
        try """
            scrape_configs:
              - job_name: guarded
                scrape_interval: 1h
                basic_auth: {username: ops, password: hunter2-password}
                authorization: {credentials: bearer-credential-xyz}
                static_configs: [{targets: ["127.0.0.1:1"]}]
            """.write(toFile: dir + "/prometheus.yml", atomically: true, encoding: .utf8)
        let server = try ServerProcess(directory: dir + "/data", port: freePort(),
                                       arguments: ["--query.max-concurrency", "4", "--query.timeout", "5s",
                                                   "--config.file", dir + "/prometheus.yml"])
        try await server.waitReady()
        let client = HTTP(port: server.port, timeout: 30)

        // History: 2,000 series over 6 h at 60 s, and its sum to compare afterwards.
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for metric in 0..<20 {
            var body = ""
            for i in 0..<(Self.series / 20) {
                for k in 0..<(Self.hours * 60) {
                    body += "m\(metric){job=\"j\(i % 10)\",i=\"\(i)\"} \(k) \(now - Int64(Self.hours * 3_600_000) + Int64(k) * 60_000)\n"
                }
            }
            let reply = try await client.post("/api/v1/import/prometheus", body: body)
            #expect(reply.status == 200, "\(reply.text.prefix(300))")
        }
        let countQuery = #"count({__name__=~"m.+"})"#
        let before = try await client.post("/api/v1/query", form: [("query", countQuery)])
        #expect(before.text.contains("\"\(Self.series)\""), "\(before.text.prefix(300))")

        // A sample 40 days ahead and samples at the Int64 extremes are refused, typed, and
        // cost nothing else.
        let future = try await client.post("/api/v1/import/prometheus",
                                            body: "m0{job=\"j0\",i=\"0\"} 1 \(now + 40 * 86_400_000)\nfresh 1\n"
                                                + "m0 1 9223372036854775807\nm0 1 -9223372036854775808\nm0 1 99999999999999999999\n")
        #expect(future.status == 200 && future.text.contains("\"accepted\":1,\"rejected\":4"), "\(future.text)")

        // Each hostile query of HostileQueryTests, against the binary: typed, and alive after.
        for c in HostileQueryTests.cases {
            let reply = try await client.post(c.path, form: c.form)
            let described = "\(c.path) \(c.form.map { "\($0.0)=\($0.1.prefix(60))" })"
            #expect(reply.status == c.status, "\(described): \(reply.status) \(reply.text.prefix(300))")
            if !c.type.isEmpty {
                let type = (try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any])?["errorType"] as? String
                #expect(type == c.type, "\(described): \(reply.text.prefix(300))")
            }
        }

        // The exposed surface: secrets hidden, lifecycle endpoints off without their flag.
        let config = try await client.get("/api/v1/status/config")
        #expect(config.status == 200 && config.text.contains("<secret>"))
        #expect(!config.text.contains("hunter2-password") && !config.text.contains("bearer-credential-xyz"), "\(config.text)")
        #expect(try await client.post("/-/quit", body: "").status == 403)
        #expect(try await client.post("/-/reload", body: "").status == 403)

        let load = LoadResults()
        let stop = ContinuousClock.now + .seconds(seconds)
        let requests = Self.requests(now: now)
        await withTaskGroup(of: Void.self) { group in
            for c in 0..<16 {
                // A session per client: one session's transfers share a thread, and a client
                // reading a 100 MB answer must not hold up the others or the probes.
                let client = HTTP(port: server.port, timeout: 30)
                group.addTask {
                    var k = c
                    while ContinuousClock.now < stop {
                        let (path, form) = requests[k % requests.count]
                        k += 1
                        let reply = try? await client.post(path, form: form)
                        load.record(path: path, query: form.first?.1 ?? "", reply: reply)
                    }
                }
            }
            let prober = HTTP(port: server.port, timeout: 30)
            group.addTask {
                while ContinuousClock.now < stop {
                    for path in ["/-/healthy", "/-/ready", "/metrics"] {
                        let started = ContinuousClock.now
                        let reply = try? await prober.get(path)
                        load.probe(path: path, ok: reply?.status == 200, took: ContinuousClock.now - started)
                    }
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
        }

        let summary = load.summary()
        print("hostile load (\(seconds) s, 16 clients): \(summary.answered) answers by status \(summary.byStatus); "
              + "health probes \(summary.probes), p50 \(summary.p50) ms, p99 \(summary.p99) ms, max \(summary.max) ms")
        #expect(summary.untyped.isEmpty, "answers that were not typed errors: \(summary.untyped.prefix(5))")
        #expect(summary.unanswered == 0, "requests with no answer within 30 s")
        #expect(summary.failedProbes == 0, "health probes not answered 200")
        #expect(summary.probes > 0 && summary.answered > 0)
        if let limit = environment["SEXTANT_HOSTILE_P99_MS"].flatMap(Double.init) {
            #expect(summary.p99 <= limit, "health p99 \(summary.p99) ms over \(limit) ms")
        }

        // Alive, history intact, ingestion going on.
        let after = try await client.post("/api/v1/query", form: [("query", countQuery)])
        #expect(after.status == 200 && after.text.contains("\"\(Self.series)\""), "\(after.text.prefix(300))")
        let fresh = try await client.post("/api/v1/import/prometheus", body: "fresh_after 7\n")
        #expect(fresh.status == 200)
        let read = try await client.post("/api/v1/query", form: [("query", "fresh_after")])
        #expect(read.text.contains("\"7\""), "\(read.text)")
        #expect(await server.terminate() == 0)
    }
}

/// What the load saw, from many tasks.
final class LoadResults: @unchecked Sendable {
    private let lock = NSLock()
    private var byStatus: [Int: Int] = [:]
    private var untyped: [String] = []
    private var unanswered = 0
    private var probeMillis: [Double] = []
    private var failedProbes = 0

    static let typedErrors: [Int: String] = [400: "bad_data", 422: "execution", 503: "timeout"]

    func record(path: String, query: String, reply: HTTP.Reply?) {
        lock.lock()
        defer { lock.unlock() }
        guard let reply else { unanswered += 1; return }
        byStatus[reply.status, default: 0] += 1
        if reply.status == 200 { return }
        let type = (try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any])?["errorType"] as? String
        if Self.typedErrors[reply.status] == nil || type != Self.typedErrors[reply.status] {
            untyped.append("\(path) \(query.prefix(60)): \(reply.status) \(reply.text.prefix(200))")
        }
    }

    func probe(path: String, ok: Bool, took: Duration) {
        lock.lock()
        defer { lock.unlock() }
        probeMillis.append(Double(took.components.seconds) * 1000 + Double(took.components.attoseconds) / 1e15)
        if !ok { failedProbes += 1 }
    }

    struct Summary {
        var answered = 0, unanswered = 0, probes = 0, failedProbes = 0
        var byStatus: [Int: Int] = [:]
        var untyped: [String] = []
        var p50 = 0.0, p99 = 0.0, max = 0.0
    }

    func summary() -> Summary {
        lock.lock()
        defer { lock.unlock() }
        let sorted = probeMillis.sorted()
        let at = { (q: Double) in sorted.isEmpty ? 0 : (sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))] * 10).rounded() / 10 }
        return Summary(answered: byStatus.values.reduce(0, +), unanswered: unanswered, probes: sorted.count,
                       failedProbes: failedProbes, byStatus: byStatus, untyped: untyped,
                       p50: at(0.5), p99: at(0.99), max: sorted.last.map { ($0 * 10).rounded() / 10 } ?? 0)
    }
}

/// A small HTTP client for a loopback server, with enough connections for many clients at once.
struct HTTP: Sendable {
    struct Reply: Sendable {
        let status: Int
        let body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    let port: Int
    let session: URLSession

    init(port: Int, timeout: Double) {
        self.port = port
        let config = URLSessionConfiguration.ephemeral
        config.httpMaximumConnectionsPerHost = 64
        config.timeoutIntervalForRequest = timeout
        session = URLSession(configuration: config)
    }

    func get(_ path: String) async throws -> Reply {
        try await send(URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!))
    }

    func post(_ path: String, body: String) async throws -> Reply {
        var r = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        r.httpMethod = "POST"
        r.httpBody = Data(body.utf8)
        return try await send(r)
    }

    func post(_ path: String, form: [(String, String)]) async throws -> Reply {
        var r = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        r.httpMethod = "POST"
        r.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        r.httpBody = formBody(form)
        return try await send(r)
    }

    func send(_ r: URLRequest) async throws -> Reply {
        let (data, response) = try await session.data(for: r)
        return Reply(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data)
    }
}
