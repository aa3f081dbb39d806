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
    /// Prometheus scrapes itself every second and remote-writes to Sextant. Every sample it
    /// stored of its own series is on Sextant with the same value, and Sextant has nothing
    /// Prometheus does not (compared up to Prometheus' newest sample).
    @Test func prometheusRemoteWritesIntoSextant() async throws {
        try #require(PrometheusProcess.isInstalled, "prometheus is missing: apt-get install prometheus (.ci/run does)")
        let sextant = try await RunningServer.start { $0.enableRemoteWriteReceiver = true }
        let port = freePort()
        let prometheus = try PrometheusProcess(config: """
            global: {scrape_interval: 1s}
            scrape_configs:
              - job_name: self
                static_configs: [{targets: ['127.0.0.1:\(port)']}]
            remote_write:
              - url: http://127.0.0.1:\(sextant.port)/api/v1/write
                queue_config: {batch_send_deadline: 1s, max_samples_per_send: 200}
            """, port: port)
        try await prometheus.waitReady()
        // Some scrapes, all sent: Sextant's up{job="self"} reaches six samples.
        let arrived = await eventually(60, every: .milliseconds(250)) {
            ((try? await rawSamples(sextant.url, "up{job=\"self\"}[1h]"))?.values.first?.count ?? 0) >= 6
        }
        #expect(arrived)
        let theirs = try await rawSamples(prometheus.url, "{job=\"self\"}[1h]")
        let newest = theirs.values.compactMap { $0.keys.max() }.max() ?? 0
        // What Prometheus had then has reached Sextant within a few send deadlines.
        var ours: [String: [Int64: String]] = [:]
        _ = await eventually(20, every: .milliseconds(250)) {
            ours = (try? await rawSamples(sextant.url, "{job=\"self\"}[1h]")) ?? [:]
            return theirs.allSatisfy { key, samples in samples.allSatisfy { ours[key]?[$0.key] == $0.value } }
        }
        #expect(theirs.count > 100, "Prometheus' own series: \(theirs.count)")
        var missing = 0, extra = 0
        for (key, samples) in theirs {
            missing += samples.filter { ours[key]?[$0.key] != $0.value }.count
            extra += (ours[key] ?? [:]).filter { $0.key <= newest && samples[$0.key] == nil }.count
        }
        #expect(missing == 0 && extra == 0, "missing \(missing), extra \(extra) of \(theirs.values.map(\.count).reduce(0, +))")
        // Its metadata arrives too (sent once a minute; the first send is at start-up).
        _ = await prometheus.terminate()
        let metrics = try await sextant.get("/metrics")
        #expect(metrics.text.contains("sextant_remote_write_rejected_samples_total 0"))
        await sextant.stop()
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
