import Foundation
import Hummingbird
import Logging
import Remote
import Scrape
import Storage
import Synchronization
import Testing
import TestSupport
import TSDB

/// A remote write receiver on loopback that answers from a script (status, Retry-After) and
/// keeps every sample it acknowledged.
final class ScriptedReceiver: Sendable {
    struct Answer: Sendable {
        var status: HTTPResponse.Status
        var retryAfter: String?
    }

    let script: Mutex<[Answer]>
    let received = Mutex<[String: [Int64: UInt64]]>([:])
    let requests = Atomic<Int>(0)
    let headers = Mutex<[String: String]>([:])
    /// How long each acknowledged request takes (a slow receiver).
    let delay = Mutex<Duration>(.zero)

    init(_ script: [Answer] = []) { self.script = Mutex(script) }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/write") { request, _ -> Response in
            self.requests.add(1, ordering: .relaxed)
            var r = request
            let body = try await r.collectBody(upTo: 64 << 20)
            self.headers.withLock { h in
                for f in request.headers { h[f.name.canonicalName.lowercased()] = f.value }
            }
            let answer = self.script.withLock { s -> Answer in s.isEmpty ? Answer(status: .noContent) : s.removeFirst() }
            guard answer.status == .noContent else {
                var headers = HTTPFields()
                if let ra = answer.retryAfter { headers[.retryAfter] = ra }
                return Response(status: answer.status, headers: headers)
            }
            let pause = self.delay.withLock { $0 }
            if pause > .zero { try await Task.sleep(for: pause) }
            let decoded = try Prometheus_WriteRequest(serializedBytes: try Snappy.decompress(Array(body.readableBytesView), limit: 1 << 28))
            self.received.withLock { store in
                for ts in decoded.timeseries {
                    let key = ts.labels.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
                    for s in ts.samples { store[key, default: [:]][s.timestamp] = s.value.bitPattern }
                }
            }
            return Response(status: .noContent)
        }
        return router
    }

    var sampleCount: Int { received.withLock { $0.values.map(\.count).reduce(0, +) } }
}

@Suite(.serialized) struct RemoteWriteQueueTests {
    let now = Int64(Date().timeIntervalSince1970 * 1000)

    /// A DB in a fresh directory and a remote write service over it.
    func setUp(_ yaml: (Int) -> String, receiver: ScriptedReceiver, reshardInterval: Duration = .seconds(10)) async throws
        -> (db: DB, service: RemoteWriteService, run: Task<Void, Never>, server: LoopbackServer, dir: String, config: PrometheusConfig) {
        let dir = NSTemporaryDirectory() + "sextant-rwq-\(UUID().uuidString)"
        let db = try DB.open(directory: dir)
        let (server, port) = await startLoopback(receiver.router())
        let config = try PrometheusConfig.parse(yaml(port))
        var logger = Logger(label: "rw")
        logger.logLevel = .critical
        let service = RemoteWriteService(dataDirectory: dir, logger: logger, userAgent: "Sextant/test", flushDeadline: .seconds(1),
                                         reshardInterval: reshardInterval,
                                         ingest: { IngestStats(appended: db.head.stats.samplesAppended, newest: db.head.stats.maxTime) },
                                         metadata: { [MetadataEntry(name: "m", type: .gauge, help: "A gauge.", unit: "")] })
        let run = Task { await service.run() }
        service.update(config.remoteWrite, externalLabels: config.externalLabels)
        return (db, service, run, server, dir, config)
    }

    func append(_ db: DB, _ series: [[String: String]], from: Int64, count: Int) throws {
        let app = db.appender()
        for i in 0..<count {
            for s in series { try app.append(Labels(s), from + Int64(i) * 1000, Double(i)) }
        }
        try app.commit()
    }

    func metric(_ service: RemoteWriteService, _ name: String) -> Double? {
        service.renderMetrics().split(separator: "\n").first { $0.hasPrefix("sextant_remote_storage_\(name){") }
            .flatMap { $0.split(separator: " ").last.flatMap { Double($0) } }
    }

    func tearDown(_ s: (db: DB, service: RemoteWriteService, run: Task<Void, Never>, server: LoopbackServer, dir: String, config: PrometheusConfig)) async {
        s.service.finish()
        await s.run.value
        await s.server.stop()
        s.db.close()
        try? FileManager.default.removeItem(atPath: s.dir)
    }

    /// 5xx answers are retried until the batch goes through; a 400 drops its batch (counted)
    /// and later batches still go; the protocol's headers are sent.
    @Test func retriesServerErrorsAndDropsClientErrors() async throws {
        let receiver = ScriptedReceiver([.init(status: .serviceUnavailable), .init(status: .internalServerError)])
        let s = try await setUp({ """
            remote_write:
              - url: http://127.0.0.1:\($0)/write
                headers: {X-Tenant: team-a}
                queue_config: {batch_send_deadline: 100ms, min_backoff: 10ms, max_backoff: 50ms}
                metadata_config: {send: false}
            """ }, receiver: receiver)
        try append(s.db, [["__name__": "a", "i": "1"], ["__name__": "a", "i": "2"]], from: now - 60_000, count: 10)
        #expect(await eventually(20) { receiver.sampleCount == 20 })
        #expect((metric(s.service, "samples_retried_total") ?? 0) > 0)
        #expect(s.service.renderMetrics().contains("sextant_remote_storage_highest_timestamp_in_seconds \(Double(now - 60_000 + 9000) / 1000)"))
        #expect(receiver.headers.withLock { $0["content-encoding"] == "snappy" && $0["x-prometheus-remote-write-version"] == "0.1.0" && $0["x-tenant"] == "team-a" })
        receiver.script.withLock { $0 = [.init(status: .badRequest)] }
        try append(s.db, [["__name__": "b"]], from: now - 50_000, count: 3)
        #expect(await eventually(20) { (metric(s.service, "samples_failed_total") ?? 0) == 3 })
        try append(s.db, [["__name__": "c"]], from: now - 40_000, count: 4)
        #expect(await eventually(20) { receiver.sampleCount == 24 })
        #expect(receiver.received.withLock { $0["__name__=b"] == nil })
        await tearDown(s)
    }

    /// 429 is dropped by default and retried (after Retry-After) with `retry_on_http_429`.
    @Test func rateLimitsAreRetriedOnlyWhenConfigured() async throws {
        for retry in [false, true] {
            let receiver = ScriptedReceiver([.init(status: .tooManyRequests, retryAfter: "0")])
            let s = try await setUp({ """
                remote_write:
                  - url: http://127.0.0.1:\($0)/write
                    queue_config: {batch_send_deadline: 100ms, min_backoff: 10ms, retry_on_http_429: \(retry)}
                    metadata_config: {send: false}
                """ }, receiver: receiver)
            try append(s.db, [["__name__": "r"]], from: now - 60_000, count: 5)
            #expect(await eventually(20) { receiver.requests.load(ordering: .relaxed) >= (retry ? 2 : 1) && (retry ? receiver.sampleCount == 5 : metric(s.service, "samples_failed_total") == 5) })
            #expect(receiver.sampleCount == (retry ? 5 : 0))
            await tearDown(s)
        }
    }

    /// External labels are added under a series' own, write relabeling drops and rewrites
    /// series (dropped samples counted), and metadata goes in requests of its own.
    @Test func appliesExternalLabelsAndWriteRelabeling() async throws {
        let receiver = ScriptedReceiver()
        let s = try await setUp({ """
            global: {external_labels: {cluster: eu, region: west}}
            remote_write:
              - url: http://127.0.0.1:\($0)/write
                queue_config: {batch_send_deadline: 100ms}
                metadata_config: {send_interval: 100ms}
                write_relabel_configs:
                  - {source_labels: [__name__], regex: secret_.*, action: drop}
                  - {source_labels: [pod], target_label: instance}
            """ }, receiver: receiver)
        try append(s.db, [["__name__": "kept", "pod": "p1"], ["__name__": "secret_x"], ["__name__": "own", "region": "east"]],
                   from: now - 60_000, count: 2)
        #expect(await eventually(20) { receiver.sampleCount == 4 })
        let keys = receiver.received.withLock { Set($0.keys) }
        #expect(keys == ["__name__=kept,cluster=eu,instance=p1,pod=p1,region=west", "__name__=own,cluster=eu,region=east"])
        #expect(metric(s.service, "samples_dropped_total") == 2)
        #expect(await eventually(10) { (metric(s.service, "metadata_total") ?? 0) >= 1 })
        await tearDown(s)
    }

    /// A backlog behind a slow receiver raises the shard count (within max_shards), and every
    /// sample still arrives once the shards changed.
    @Test func shardsGrowWithTheBacklog() async throws {
        let receiver = ScriptedReceiver()
        receiver.delay.withLock { $0 = .milliseconds(20) }
        let s = try await setUp({ """
            remote_write:
              - url: http://127.0.0.1:\($0)/write
                queue_config: {batch_send_deadline: 50ms, max_samples_per_send: 100, capacity: 200, max_shards: 4}
                metadata_config: {send: false}
            """ }, receiver: receiver, reshardInterval: .milliseconds(500))
        var series: [[String: String]] = []
        for i in 0..<50 { series.append(["__name__": "load", "i": "\(i)"]) }
        for round in 0..<8 {
            try append(s.db, series, from: now - 600_000 + Int64(round) * 60_000, count: 60)
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(await eventually(30) { (metric(s.service, "shards") ?? 0) > 1 }, "shards: \(metric(s.service, "shards") ?? 0)")
        #expect((metric(s.service, "shards") ?? 0) <= 4)
        #expect(await eventually(60) { receiver.sampleCount == 50 * 60 * 8 }, "\(receiver.sampleCount)")
        await tearDown(s)
    }

    /// A reload with the same entry keeps the queue (its counters go on); a changed entry
    /// gets a new queue.
    @Test func reloadKeepsUnchangedQueues() async throws {
        let receiver = ScriptedReceiver()
        let yaml = { (port: Int, deadline: String) in """
            remote_write:
              - url: http://127.0.0.1:\(port)/write
                name: q
                queue_config: {batch_send_deadline: \(deadline)}
                metadata_config: {send: false}
            """ }
        var port = 0
        let s = try await setUp({ port = $0; return yaml($0, "100ms") }, receiver: receiver)
        try append(s.db, [["__name__": "x"]], from: now - 60_000, count: 3)
        #expect(await eventually(20) { metric(s.service, "samples_total") == 3 })
        let same = try PrometheusConfig.parse(yaml(port, "100ms"))
        s.service.update(same.remoteWrite, externalLabels: .empty)
        try await Task.sleep(for: .milliseconds(300))
        #expect(metric(s.service, "samples_total") == 3)
        let changed = try PrometheusConfig.parse(yaml(port, "200ms"))
        s.service.update(changed.remoteWrite, externalLabels: .empty)
        #expect(await eventually(10) { metric(s.service, "samples_total") == 0 })
        // The new queue resumes from the saved position: nothing is sent twice.
        try append(s.db, [["__name__": "x"]], from: now - 50_000, count: 2)
        #expect(await eventually(20) { receiver.sampleCount == 5 })
        try await Task.sleep(for: .milliseconds(500))
        #expect(metric(s.service, "samples_total") == 2)
        await tearDown(s)
    }
}
