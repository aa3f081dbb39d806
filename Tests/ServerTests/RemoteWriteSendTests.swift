import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport

/// The real `sextant serve` remote-writes its own scrapes to a real receiver (Prometheus 2.42
/// with its receiver on, VictoriaMetrics 1.79), which is stopped for a while; Sextant is
/// restarted in the middle of the outage. Afterwards the receiver holds every sample Sextant
/// stored, each exactly once (VictoriaMetrics keeps duplicates, so a repeat would show).
@Suite(.serialized) struct RemoteWriteSendTests {
    /// A receiver the test can stop and start again on the same data.
    struct Receiver {
        let start: @Sendable () async throws -> Void
        let stop: @Sendable () async -> Void
        let url: String
    }

    @Test func everySampleReachesPrometheusThroughAnOutageAndARestart() async throws {
        try #require(PrometheusProcess.isInstalled, "prometheus is missing: apt-get install prometheus (.ci/run does)")
        let port = freePort()
        let directory = NSTemporaryDirectory() + "sextant-rw-prometheus-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let holder = Holder<PrometheusProcess>()
        let receiver = Receiver(start: {
            let p = try PrometheusProcess(config: "global: {scrape_interval: 1h}\n", port: port, directory: directory,
                                          arguments: ["--web.enable-remote-write-receiver"])
            try await p.waitReady()
            holder.set(p)
        }, stop: { if let p = holder.take() { _ = await p.terminate() } }, url: "http://127.0.0.1:\(port)")
        try await sendThroughOutage(receiver, writeURL: receiver.url + "/api/v1/write")
    }

    @Test func everySampleReachesVictoriaMetricsExactlyOnce() async throws {
        try #require(VictoriaMetricsProcess.isInstalled, "victoria-metrics is missing: apt-get install victoria-metrics (.ci/run does)")
        let port = freePort()
        let directory = NSTemporaryDirectory() + "sextant-rw-vm-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let holder = Holder<VictoriaMetricsProcess>()
        let receiver = Receiver(start: {
            let p = try VictoriaMetricsProcess(port: port, directory: directory)
            try await p.waitReady()
            holder.set(p)
        }, stop: { if let p = holder.take() { _ = await p.terminate() } }, url: "http://127.0.0.1:\(port)")
        try await sendThroughOutage(receiver, writeURL: receiver.url + "/api/v1/write")
    }

    func sendThroughOutage(_ receiver: Receiver, writeURL: String) async throws {
        let dir = NSTemporaryDirectory() + "sextant-rw-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let port = freePort()
        let config = dir + "/sextant.yml"
        try """
        global: {scrape_interval: 1s}
        scrape_configs:
          - job_name: self
            static_configs: [{targets: ['127.0.0.1:\(port)']}]
        remote_write:
          - url: \(writeURL)
            queue_config: {batch_send_deadline: 500ms, min_backoff: 100ms, max_backoff: 1s}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let arguments = ["--config.file", config, "--storage.remote.flush-deadline", "2s"]
        let sextant = "http://127.0.0.1:\(port)"

        try await receiver.start()
        var server = try ServerProcess(directory: dir + "/data", port: port, arguments: arguments)
        try await server.waitReady()
        let flowing = await eventually(60, every: .milliseconds(250)) {
            ((try? await rawSamples(receiver.url, "up{job=\"self\"}[10m]"))?.values.first?.count ?? 0) >= 3
        }
        #expect(flowing, "no samples reached the receiver")
        // A minute's outage, with a restart of Sextant in the middle of it.
        await receiver.stop()
        try await Task.sleep(for: .seconds(30))
        #expect(await server.terminate() == 0)
        server = try ServerProcess(directory: dir + "/data", port: port, arguments: arguments)
        try await server.waitReady()
        try await Task.sleep(for: .seconds(30))
        try await receiver.start()
        // Catching up: the receiver reaches what Sextant had a moment ago.
        let at = Date().timeIntervalSince1970 - 1
        let ours = numeric(try await rawSamples(sextant, "{job=\"self\"}[10m]", at: at))
        var theirs: [String: [Int64: Double]] = [:]
        let caughtUp = await eventually(60, every: .milliseconds(500)) {
            theirs = numeric((try? await rawSamples(receiver.url, "{job=\"self\"}[10m]", at: at)) ?? [:])
            return same(theirs, ours)
        }
        let missing = ours.reduce(0) { n, kv in n + kv.value.filter { !close(theirs[kv.key]?[$0.key], $0.value) }.count }
        let extra = theirs.reduce(0) { n, kv in n + kv.value.filter { !close(ours[kv.key]?[$0.key], $0.value) }.count }
        #expect(caughtUp, "missing \(missing), extra or different \(extra) of \(ours.values.map(\.count).reduce(0, +)) samples")
        #expect(ours.count > 50 && (ours.first(where: { $0.key.contains("__name__=up,") })?.value.count ?? 0) >= 60)
        // Nothing counted twice: count_over_time agrees series by series.
        for metric in ["up", "scrape_samples_scraped", "sextant_http_requests_total", "sextant_tsdb_head_series"] {
            let query = "count_over_time(\(metric){job=\"self\"}[10m])"
            let theirs = try await rawSamples(receiver.url, query, at: at).mapValues { $0.values.first.flatMap { Double($0) } }
            let ours = try await rawSamples(sextant, query, at: at).mapValues { $0.values.first.flatMap { Double($0) } }
            #expect(theirs == ours && !ours.isEmpty, "\(query): receiver \(theirs), Sextant \(ours)")
        }
        let metrics = try await URLSession.shared.data(from: URL(string: sextant + "/metrics")!).0
        let text = String(decoding: metrics, as: UTF8.self)
        let lines = text.split(separator: "\n")
        for metric in ["samples_failed_total", "samples_dropped_total", "wal_gaps_total"] {
            let line = lines.first { $0.hasPrefix("sextant_remote_storage_\(metric){") }
            #expect(line?.hasSuffix(" 0") == true, "\(line ?? "no \(metric)")")
        }
        _ = await server.terminate()
        await receiver.stop()
    }

    /// The same series and timestamps, values equal to 12 significant digits (VictoriaMetrics
    /// stores floats as decimals of about that precision).
    func same(_ a: [String: [Int64: Double]], _ b: [String: [Int64: Double]]) -> Bool {
        a.keys.sorted() == b.keys.sorted() && a.allSatisfy { key, samples in
            guard let other = b[key], other.count == samples.count else { return false }
            return samples.allSatisfy { close(other[$0.key], $0.value) }
        }
    }

    func close(_ a: Double?, _ b: Double) -> Bool {
        guard let a else { return false }
        return a == b || abs(a - b) <= 1e-12 * max(abs(a), abs(b))
    }

    /// Values as numbers (receivers format them differently), stale markers left out.
    func numeric(_ samples: [String: [Int64: String]]) -> [String: [Int64: Double]] {
        samples.mapValues { $0.compactMapValues { Double($0) }.filter { !$0.value.isNaN } }.filter { !$0.value.isEmpty }
    }
}

/// A value handed between the test's tasks.
final class Holder<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T?
    func set(_ v: T) { lock.withLock { value = v } }
    func take() -> T? { lock.withLock { defer { value = nil }; return value } }
}
