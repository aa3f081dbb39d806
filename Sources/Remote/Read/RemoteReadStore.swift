import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Scrape
import Storage
import Synchronization

/// A `remote_read` endpoint as a store queries read from, as Prometheus reads one: SAMPLES
/// answers, one request per selection, `required_matchers` and `read_recent` honoured,
/// external labels added as matchers and stripped from the answer
/// (`filter_external_labels`).
///
/// A failing endpoint does not fail the query: its error is logged and counted, and the query
/// answers from the other stores (Prometheus makes it a warning; Sextant's API has none yet).
public final class RemoteReadStore: Queryable, Sendable {
    public let config: RemoteReadConfig
    let externalLabels: Labels
    let client: HTTPClient
    let logger: Logger
    /// The local store's start: ranges after it are answered locally unless `read_recent`.
    let localStart: @Sendable () -> Int64
    let userAgent: String
    /// Requests by outcome ("success", "error"), for `sextant_remote_storage_read_queries_total`.
    let outcomes = Mutex<[String: Int]>([:])
    /// Largest decoded answer taken.
    public static let maxResponseBytes = 256 << 20

    public init(config: RemoteReadConfig, externalLabels: Labels, logger: Logger, userAgent: String,
                localStart: @escaping @Sendable () -> Int64) throws {
        self.config = config
        self.externalLabels = externalLabels
        self.logger = logger
        self.userAgent = userAgent
        self.localStart = localStart
        var http = HTTPClient.Configuration()
        if config.url.hasPrefix("https") { http.tlsConfiguration = try config.http.tls.configuration() }
        http.redirectConfiguration = config.http.followRedirects ? .follow(max: 10, allowCycles: false) : .disallow
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
    }

    public func shutdown() async { try? await client.shutdown() }

    public func querier(mint: Int64, maxt: Int64) -> any Querier { RemoteReadQuerier(store: self, mint: mint, maxt: maxt) }

    func count(_ outcome: String) { outcomes.withLock { $0[outcome, default: 0] += 1 } }

    /// The request counts of `stores`, with HELP and TYPE.
    public static func render(_ stores: [RemoteReadStore]) -> String {
        guard !stores.isEmpty else { return "" }
        return "# HELP sextant_remote_storage_read_queries_total Remote read requests by outcome.\n"
            + "# TYPE sextant_remote_storage_read_queries_total counter\n" + stores.map { $0.metricLines() }.joined()
    }

    /// Exposition lines of the request counts.
    public func metricLines() -> String {
        let name = config.name.isEmpty ? "" : config.name
        return outcomes.withLock { $0 }.sorted { $0.key < $1.key }.map {
            "sextant_remote_storage_read_queries_total{remote_name=\"\(name)\",url=\"\(QueueMetrics.redacted(config.url))\",outcome=\"\($0.key)\"} \($0.value)\n"
        }.joined()
    }

    /// The series of one selection, or nil when the endpoint is not asked (see the type's doc).
    func read(_ matchers: [LabelMatcher], mint: Int64, maxt: Int64, hints: SelectHints?) -> [any Series] {
        for (name, value) in config.requiredMatchers
        where !matchers.contains(where: { $0.type == .equal && $0.name == name && $0.value == value }) {
            return []
        }
        var maxt = maxt
        if !config.readRecent {
            let start = localStart()
            if mint > start { return [] }
            maxt = min(maxt, start)
        }
        var sent = matchers
        var added: Set<String> = []
        if config.filterExternalLabels {
            for l in externalLabels where !matchers.contains(where: { $0.name == l.name }) {
                sent.append(.equal(l.name, l.value))
                added.insert(l.name)
            }
        }
        var query = Prometheus_Query()
        query.startTimestampMs = mint
        query.endTimestampMs = maxt
        query.matchers = sent.map(\.wire)
        if let hints {
            query.hints.startMs = hints.start
            query.hints.endMs = hints.end
            query.hints.stepMs = hints.step
            if let f = hints.function { query.hints.`func` = f }
        }
        var request = Prometheus_ReadRequest()
        request.queries = [query]
        do {
            let response = try post(request)
            guard response.results.count == 1 else {
                throw InvalidWireData(description: "\(response.results.count) results for 1 query")
            }
            count("success")
            return try response.results[0].timeseries.map { ts -> any Series in
                let labels = try Labels(wire: ts.labels, limits: .importDefaults).removing(added)
                var t: [Int64] = [], v: [Double] = []
                t.reserveCapacity(ts.samples.count)
                v.reserveCapacity(ts.samples.count)
                for s in ts.samples where s.timestamp >= mint && s.timestamp <= maxt {
                    if let last = t.last, s.timestamp <= last { continue }
                    t.append(s.timestamp)
                    v.append(s.value)
                }
                return SampleListSeries(labels: labels, timestamps: t, values: v)
            }.sorted { Labels.compare($0.labels, $1.labels) < 0 }
        } catch {
            count("error")
            logger.warning("remote_read \(config.name.isEmpty ? QueueMetrics.redacted(config.url) : config.name): \(error); answering without it")
            return []
        }
    }

    /// Posts a request and waits for the answer (queries run on worker threads, never on an
    /// event loop, so waiting here blocks no I/O).
    func post(_ request: Prometheus_ReadRequest) throws -> Prometheus_ReadResponse {
        let body = Snappy.compress(try request.serializedBytes() as [UInt8])
        var r = try HTTPClient.Request(url: config.url, method: .POST)
        r.headers.add(name: "Content-Encoding", value: "snappy")
        r.headers.add(name: "Accept-Encoding", value: "snappy")
        r.headers.add(name: "Content-Type", value: "application/x-protobuf")
        r.headers.add(name: "User-Agent", value: userAgent)
        r.headers.add(name: "X-Prometheus-Remote-Read-Version", value: "0.1.0")
        for (k, v) in config.headers { r.headers.add(name: k, value: v) }
        if let auth = try config.http.authorizationHeader() { r.headers.add(name: "Authorization", value: auth) }
        r.body = .bytes(body)
        // The body is held to the decoded limit while it arrives: a misbehaving endpoint cannot
        // make the query thread buffer more.
        let accumulator = ResponseAccumulator(request: r, maxBodySize: Self.maxResponseBytes)
        let response = try client.execute(request: r, delegate: accumulator,
                                          deadline: .now() + .milliseconds(min(config.remoteTimeout, WriteClient.longestTimeout))).wait()
        guard (200..<300).contains(response.status.code) else {
            let text = response.body.map { String(buffer: $0).prefix(512) } ?? ""
            throw InvalidWireData(description: "server returned HTTP status \(response.status): \(text)")
        }
        let bytes = response.body.map { Array($0.readableBytesView) } ?? []
        return try Prometheus_ReadResponse(serializedBytes: try Snappy.decompress(bytes, limit: Self.maxResponseBytes))
    }
}

/// A remote read endpoint over one time range.
struct RemoteReadQuerier: Querier {
    let store: RemoteReadStore
    let mint: Int64
    let maxt: Int64

    func select(_ matchers: [LabelMatcher], hints: SelectHints?) -> any SeriesSet {
        ListSeriesSet(store.read(matchers, mint: mint, maxt: maxt, hints: hints))
    }

    /// Prometheus' remote read has no label queries.
    func labelNames(_ matchers: [LabelMatcher]) -> [String] { [] }
    func labelValues(_ name: String, _ matchers: [LabelMatcher]) -> [String] { [] }
}

/// A series held as two arrays.
public struct SampleListSeries: Series {
    public let labels: Labels
    let timestamps: [Int64]
    let values: [Double]

    public init(labels: Labels, timestamps: [Int64], values: [Double]) {
        self.labels = labels
        self.timestamps = timestamps
        self.values = values
    }

    public func makeIterator() -> any SeriesIterator { Iterator(series: self) }

    struct Iterator: SeriesIterator {
        let series: SampleListSeries
        var i = -1

        mutating func next() -> Bool {
            i += 1
            return i < series.timestamps.count
        }

        mutating func seek(to t: Int64) -> Bool {
            if i < 0 { i = 0 }
            while i < series.timestamps.count && series.timestamps[i] < t { i += 1 }
            return i < series.timestamps.count
        }

        func at() -> (t: Int64, v: Double) { (series.timestamps[i], series.values[i]) }
        var error: (any Error)? { nil }
    }
}

/// The local store and the remote read endpoints as one store: selections are merged, local
/// samples winning at equal timestamps.
public struct FanoutQueryable: Queryable {
    public let local: any Queryable
    public let remotes: [any Queryable]

    public init(local: any Queryable, remotes: [any Queryable]) {
        self.local = local
        self.remotes = remotes
    }

    public func querier(mint: Int64, maxt: Int64) -> any Querier {
        guard !remotes.isEmpty else { return local.querier(mint: mint, maxt: maxt) }
        return MergeQuerier([local.querier(mint: mint, maxt: maxt)] + remotes.map { $0.querier(mint: mint, maxt: maxt) }, mint: mint, maxt: maxt)
    }
}
