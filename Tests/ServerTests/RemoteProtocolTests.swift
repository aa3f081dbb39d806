import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Remote
import Testing
import TestSupport

/// Remote write and remote read against the real Prometheus 2.42 (Debian package), started
/// by the tests, talking to the real server on loopback.
@Suite(.serialized) struct RemoteProtocolTests {
    /// Prometheus scrapes itself every second and remote-writes to Sextant; Sextant is down for
    /// a minute in the middle (Prometheus retries from its WAL). Afterwards every sample
    /// Prometheus stored of its own series is on Sextant once, with the same value, and Sextant
    /// has nothing Prometheus does not (compared up to Prometheus' newest sample).
    @Test func prometheusRemoteWritesIntoSextantThroughAnOutage() async throws {
        try #require(PrometheusProcess.isInstalled, "prometheus is missing: apt-get install prometheus (.ci/run does)")
        let dir = NSTemporaryDirectory() + "sextant-rw-receiver-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sextantPort = freePort()
        let sextant = "http://127.0.0.1:\(sextantPort)"
        var server = try ServerProcess(directory: dir, port: sextantPort, arguments: ["--web.enable-remote-write-receiver"])
        try await server.waitReady()
        let port = freePort()
        let prometheus = try PrometheusProcess(config: """
            global: {scrape_interval: 1s}
            scrape_configs:
              - job_name: self
                static_configs: [{targets: ['127.0.0.1:\(port)']}]
            remote_write:
              - url: \(sextant)/api/v1/write
                queue_config: {batch_send_deadline: 1s, max_samples_per_send: 200, max_backoff: 1s}
            """, port: port)
        try await prometheus.waitReady()
        #expect(await eventually(60, every: .milliseconds(250)) {
            ((try? await rawSamples(sextant, "up{job=\"self\"}[1h]"))?.values.first?.count ?? 0) >= 3
        })
        #expect(await server.terminate() == 0)
        try await Task.sleep(for: .seconds(60))
        server = try ServerProcess(directory: dir, port: sextantPort, arguments: ["--web.enable-remote-write-receiver"])
        try await server.waitReady()
        try await Task.sleep(for: .seconds(3))
        let at = Date().timeIntervalSince1970 - 2
        let theirs = try await rawSamples(prometheus.url, "{job=\"self\"}[1h]", at: at)
        // What Prometheus had then reaches Sextant once its retries get through.
        var ours: [String: [Int64: String]] = [:]
        _ = await eventually(60, every: .milliseconds(500)) {
            ours = (try? await rawSamples(sextant, "{job=\"self\"}[1h]", at: at)) ?? [:]
            return ours == theirs
        }
        #expect(theirs.count > 100, "Prometheus' own series: \(theirs.count)")
        #expect((theirs.first { $0.key.contains("__name__=up,") }?.value.count ?? 0) >= 60)
        var missing = 0, extra = 0
        for (key, samples) in theirs { missing += samples.filter { ours[key]?[$0.key] != $0.value }.count }
        for (key, samples) in ours { extra += samples.filter { theirs[key]?[$0.key] != $0.value }.count }
        #expect(missing == 0 && extra == 0, "missing \(missing), extra \(extra) of \(theirs.values.map(\.count).reduce(0, +))")
        for metric in ["up", "scrape_samples_scraped", "prometheus_tsdb_head_series"] {
            let query = "count_over_time(\(metric){job=\"self\"}[1h])"
            let a = try await rawSamples(prometheus.url, query, at: at), b = try await rawSamples(sextant, query, at: at)
            #expect(a == b && !a.isEmpty, "\(query): Prometheus \(a), Sextant \(b)")
        }
        let metrics = String(decoding: try await URLSession.shared.data(from: URL(string: sextant + "/metrics")!).0, as: UTF8.self)
        #expect(metrics.contains("sextant_remote_write_rejected_samples_total 0"))
        _ = await prometheus.terminate()
        _ = await server.terminate()
    }

    /// Prometheus reads Sextant's data through `remote_read` (SAMPLES answers): data it does not
    /// have locally answers its own PromQL, with Sextant's external labels handled.
    @Test func prometheusRemoteReadsFromSextant() async throws {
        try #require(PrometheusProcess.isInstalled, "prometheus is missing: apt-get install prometheus (.ci/run does)")
        let sextant = try await RunningServer.start()
        let now = Int64(Date().timeIntervalSince1970) * 1000
        var lines = ""
        for i in 0..<120 {
            lines += "imported_total{job=\"far\",pod=\"a\"} \(i) \(now - 600_000 + Int64(i) * 5000)\n"
            lines += "imported_total{job=\"far\",pod=\"b\"} \(i * 2) \(now - 600_000 + Int64(i) * 5000)\n"
        }
        let imported = try await sextant.post("/api/v1/import/prometheus", body: lines)
        #expect(imported.status == 200, "\(imported.text)")
        let prometheus = try PrometheusProcess(config: """
            global: {scrape_interval: 1h}
            remote_read:
              - url: http://127.0.0.1:\(sextant.port)/api/v1/read
                read_recent: true
            """)
        try await prometheus.waitReady()
        let at = Double(now) / 1000
        let theirs = try await rawSamples(prometheus.url, "imported_total[15m]", at: at)
        let ours = try await rawSamples(sextant.url, "imported_total[15m]", at: at)
        #expect(theirs.count == 2 && theirs.values.allSatisfy { $0.count == 120 })
        #expect(theirs == ours)
        // PromQL in Prometheus over Sextant's samples.
        var components = URLComponents(string: prometheus.url + "/api/v1/query")!
        components.queryItems = [URLQueryItem(name: "query", value: "sum(imported_total)"), URLQueryItem(name: "time", value: "\(at)")]
        let (data, _) = try await URLSession.shared.data(from: components.url!)
        #expect(String(decoding: data, as: UTF8.self).contains("\"357\""), "\(String(decoding: data, as: UTF8.self))")
        _ = await prometheus.terminate()
        await sextant.stop()
    }

    /// Sextant queries Prometheus 2.42's data through `remote_read`, merged with its own;
    /// `required_matchers` keeps the endpoint out of other selections, and a dead endpoint
    /// leaves queries answering from local data.
    @Test func sextantRemoteReadsFromPrometheus() async throws {
        try #require(PrometheusProcess.isInstalled, "prometheus is missing: apt-get install prometheus (.ci/run does)")
        let port = freePort()
        let prometheus = try PrometheusProcess(config: """
            global: {scrape_interval: 1s}
            scrape_configs:
              - job_name: prom
                static_configs: [{targets: ['127.0.0.1:\(port)']}]
            """, port: port)
        try await prometheus.waitReady()
        #expect(await eventually(30, every: .milliseconds(250)) {
            ((try? await rawSamples(prometheus.url, "up{job=\"prom\"}[1h]"))?.values.first?.count ?? 0) >= 3
        })
        let dir = NSTemporaryDirectory() + "sextant-rr-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
            remote_read:
              - url: \(prometheus.url)/api/v1/read
                read_recent: true
              - url: \(prometheus.url)/api/v1/read
                read_recent: true
                required_matchers: {job: other}
              - url: http://127.0.0.1:\(freePort())/api/v1/read
                read_recent: true
            """.write(toFile: dir + "/sextant.yml", atomically: true, encoding: .utf8)
        let sextant = try await RunningServer.start(scraping: true) { $0.configFile = dir + "/sextant.yml" }
        let at = Date().timeIntervalSince1970
        let theirs = try await rawSamples(prometheus.url, "up{job=\"prom\"}[1h]", at: at)
        let ours = try await rawSamples(sextant.url, "up{job=\"prom\"}[1h]", at: at)
        #expect(!theirs.isEmpty && ours == theirs)
        let summed = try await rawSamples(sextant.url, "sum(count_over_time(up{job=\"prom\"}[1h]))", at: at)
        #expect(summed.values.first?.values.first == String(theirs.values.first?.count ?? -1))
        let metrics = try await sextant.get("/metrics").text
        #expect(metrics.contains("outcome=\"error\"} "), "the dead endpoint's failures are counted")
        #expect(!metrics.contains("job: other"))
        await sextant.stop()
        _ = await prometheus.terminate()
    }

    @Test func receiverIsOffUnlessEnabledAndRefusesGarbage() async throws {
        let off = try await RunningServer.start()
        var r = URLRequest(url: URL(string: off.url + "/api/v1/write")!)
        r.httpMethod = "POST"
        r.httpBody = Data(Snappy.compress([UInt8]()))
        #expect(try await off.send(r).status == 404)
        await off.stop()

        let on = try await RunningServer.start { $0.enableRemoteWriteReceiver = true }
        r = URLRequest(url: URL(string: on.url + "/api/v1/write")!)
        r.httpMethod = "POST"
        r.httpBody = Data("garbage".utf8)
        let garbage = try await on.send(r)
        #expect(garbage.status == 400 && garbage.json["errorType"] as? String == "bad_data", "\(garbage.text)")
        r.httpBody = Data(repeating: 0xFF, count: (32 << 20) + 1)
        #expect(try await on.send(r).status == 400)
        // An empty request is a success.
        r.httpBody = Data(Snappy.compress([UInt8]()))
        #expect(try await on.send(r).status == 204)
        // Remote read: not snappy, and an unsupported response type.
        r = URLRequest(url: URL(string: on.url + "/api/v1/read")!)
        r.httpMethod = "POST"
        r.httpBody = Data("garbage".utf8)
        #expect(try await on.send(r).status == 400)
        var read = Prometheus_ReadRequest()
        read.acceptedResponseTypes = [.UNRECOGNIZED(9)]
        r.httpBody = Data(Snappy.compress(try read.serializedBytes() as [UInt8]))
        let unsupported = try await on.send(r)
        #expect(unsupported.status == 400 && unsupported.text.contains("does not support"))
        await on.stop()
    }
}

extension RunningServer {
    var url: String { "http://127.0.0.1:\(port)" }
}
