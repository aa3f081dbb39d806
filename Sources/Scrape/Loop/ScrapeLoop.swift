import AsyncHTTPClient
import Exposition
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Storage
import Synchronization

/// What /api/v1/targets shows of a target.
public struct TargetHealth: Sendable {
    public var health = "unknown"
    public var lastError = ""
    /// Milliseconds since the epoch, 0 before the first scrape.
    public var lastScrape: Int64 = 0
    public var lastScrapeDuration = 0.0
}

/// Scrapes one target every interval, at a stable offset within it, into the store.
///
/// Series text seen before maps straight to its ref (no label parsing); series that vanish
/// get a stale marker; every scrape writes `up`, `scrape_duration_seconds`,
/// `scrape_samples_scraped`, `scrape_samples_post_metric_relabeling`, `scrape_series_added`.
///
/// Ownership: `state` and `familyMetadata` are owned by their locks (the API reads them).
/// The scrape state (`cache`, `scrapeNumber`, `uncachedPrevious`, `commentDigest`) belongs
/// to the scrape under way: the loop's `ScrapeTicker` runs one scrape at a time and starts
/// the next only after the previous one is done, so exactly one thread touches it at a time.
public final class ScrapeLoop: @unchecked Sendable {
    public let target: ScrapeTarget
    let storage: any Appendable
    let client: HTTPClient
    let logger: Logger
    let state = Locked(TargetHealth())
    /// Series text to ref (or dropped) and the scrape each was last seen in.
    var cache = SeriesTextCache()
    /// Number of the current scrape; entries seen in the previous one but not this one go stale.
    var scrapeNumber = 0
    /// Refs written by the last successful scrape that are not in the cache (it was full).
    var uncachedPrevious = Set<SeriesRef>()
    /// TYPE, HELP and UNIT of the target's metric families from its last scrapes.
    let familyMetadata = Locked<[String: MetricMetadata]>([:])
    /// `TextParser.commentDigest` of the last text-format body whose metadata was read.
    var commentDigest: UInt64 = 0

    public init(target: ScrapeTarget, storage: any Appendable, client: HTTPClient, logger: Logger) {
        self.target = target
        offset = Int64(Labels(target.labels.pairs + [Label("__url__", target.url)]).stableHash % UInt64(max(target.interval, 1)))
        self.storage = storage
        self.client = client
        self.logger = logger
    }

    public var health: TargetHealth { state.withLock { $0 } }

    /// Metadata of the target's metric families, by family name.
    public var metadata: [String: MetricMetadata] { familyMetadata.withLock { $0 } }

    static let accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

    /// The offset of this target's scrapes within the interval, stable across restarts.
    let offset: Int64

    /// Milliseconds since the epoch.
    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Scrapes until the task is cancelled, then marks every series of the target stale.
    /// The scrapes run on one event loop of the client (see `ScrapeTicker`).
    public func run() async {
        let ticker = ScrapeTicker(loop: self, eventLoop: client.eventLoopGroup.next())
        await withTaskCancellationHandler {
            await ticker.run()
        } onCancel: {
            ticker.stop()
        }
        markAllStale(at: Self.now())
    }

    /// One scrape at `time`: fetch, parse, append and commit, or mark the target down.
    public func scrapeOnce(at time: Int64) async {
        let started = ContinuousClock.now
        let request = fetch(on: client.eventLoopGroup.next())
        let result: Result<BodyCollector.Response, any Error> = await withTaskCancellationHandler {
            do { return .success(try await request.response.get()) } catch { return .failure(error) }
        } onCancel: {
            request.cancel()
        }
        complete(result, at: time, started: started)
    }

    /// Appends a fetched body (or records the failure), then the scrape's synthetic series
    /// and the target's health.
    func complete(_ fetched: Result<BodyCollector.Response, any Error>, at time: Int64, started: ContinuousClock.Instant) {
        var result: (scraped: Int, kept: Int, added: Int)?
        var failure: String?
        do {
            result = try append(fetched.get(), at: time)
        } catch {
            failure = "\(error)"
        }
        let seconds = Self.seconds(ContinuousClock.now - started)
        if failure != nil { markAllStale(at: time, keepReports: true) }
        report(up: failure == nil, seconds: seconds, result: result ?? (0, 0, 0), at: time)
        state.withLock { s in
            s.health = failure == nil ? "up" : "down"
            s.lastError = failure ?? ""
            s.lastScrape = time
            s.lastScrapeDuration = seconds
        }
        if let failure { logger.debug("scrape of \(target.url) failed: \(failure)") }
    }

    static func seconds(_ d: Swift.Duration) -> Double {
        let (s, a) = d.components
        return Double(s) + Double(a) * 1e-18
    }

    struct ScrapeFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// A scrape's request under way.
    struct Request {
        /// The whole body, completed on the event loop the request was started for.
        let response: EventLoopFuture<BodyCollector.Response>
        let task: HTTPClient.Task<BodyCollector.Response>?

        func cancel() { task?.cancel() }
    }

    /// Starts the request for a scrape; its body arrives whole, on `eventLoop`.
    func fetch(on eventLoop: any EventLoop) -> Request {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: Self.accept)
        headers.add(name: "Accept-Encoding", value: "gzip")
        headers.add(name: "User-Agent", value: "Sextant/0.1")
        do {
            if let auth = try target.credentials.header() { headers.add(name: "Authorization", value: auth) }
        } catch {
            return Request(response: eventLoop.makeFailedFuture(error), task: nil)
        }
        headers.add(name: "X-Prometheus-Scrape-Timeout-Seconds", value: String(Double(target.timeout) / 1000))
        let request: HTTPClient.Request
        // Addressed under tls_config.server_name, the Host header still names the target.
        if target.serverNameOverride != nil, let authority = URLComponents(string: target.url).map(Self.authority) {
            headers.replaceOrAdd(name: "Host", value: authority)
        }
        do { request = try HTTPClient.Request(url: target.requestURL, method: .GET, headers: headers) } catch {
            return Request(response: eventLoop.makeFailedFuture(error), task: nil)
        }
        let task = client.execute(request: request, delegate: BodyCollector(limit: target.bodySizeLimit),
                                  eventLoop: .delegateAndChannel(on: eventLoop),
                                  deadline: .now() + .milliseconds(target.timeout))
        return Request(response: task.futureResult, task: task)
    }

    /// Parses and appends a body in one transaction; a bad body or a broken limit commits nothing.
    func append(_ body: (bytes: [UInt8], contentType: String), at time: Int64) throws -> (scraped: Int, kept: Int, added: Int) {
        let app = storage.makeAppender()
        let last = scrapeNumber
        // The cache moves into the batch for the scrape and back after.
        var batch = ScrapeBatch(cache: Self.noCache, app: app, loop: self, time: time, current: scrapeNumber + 1)
        swap(&batch.cache, &cache)
        defer { swap(&batch.cache, &cache) }
        do {
            try forEachSample(body, known: { batch.known($0) }) { try batch.add($0, $1, $2) }
        } catch {
            batch.unmark()
            app.rollback()
            throw error
        }
        // Series of the last scrape that are gone get a stale marker.
        var gone = 0
        for e in batch.cache.entries where e.lastSeen != batch.current {
            gone += 1
            if e.lastSeen == last && last > 0 && !e.dropped { try? app.append(e.ref, time, staleMarker) }
        }
        for ref in uncachedPrevious.subtracting(batch.uncachedSeen) { try? app.append(ref, time, staleMarker) }
        try app.commit()
        // Then they leave the cache, as in Prometheus: series churn does not grow it.
        let current = batch.current
        if gone > 0 { batch.cache.retain { $0.lastSeen == current } }
        scrapeNumber = batch.current
        uncachedPrevious = batch.uncachedSeen
        return (batch.scraped, batch.kept, batch.added)
    }

    /// Stands in for the cache while a batch works on it.
    static let noCache = SeriesTextCache(capacity: 0)

    /// Labels a scraped series is stored with: its own, the target's (the scraped ones win
    /// with honor_labels, otherwise clashing ones become `exported_<name>`), then metric
    /// relabeling; nil when relabeling drops it.
    func finalLabels(_ series: ArraySlice<UInt8>) throws -> Labels? {
        var labels = try TextParser.labels(of: series)
        for l in target.labels {
            if let existing = labels[l.name] {
                if target.honorLabels { continue }
                if !existing.isEmpty { labels = labels.setting("exported_" + l.name, to: existing) }
            }
            labels = labels.setting(l.name, to: l.value)
        }
        guard let final = target.metricRelabel.isEmpty ? labels : Relabeling.apply(labels, target.metricRelabel) else { return nil }
        try checkLimits(final)
        return final
    }

    /// The job's label limits; breaking one fails the scrape, as in Prometheus.
    func checkLimits(_ labels: Labels) throws {
        let limits = target.labelLimits
        guard !limits.isUnbounded else { return }
        do { try limits.check(labels) } catch { throw ScrapeFailure(description: error.description) }
    }

    /// Calls `body` for every sample of a text-format or OpenMetrics body.
    /// `known` may name the series text a line is expected to start with (see
    /// `TextParser.next(known:)`); when it did, `each` gets nil for the series.
    func forEachSample(_ body: (bytes: [UInt8], contentType: String),
                       known: (UnsafeBufferPointer<UInt8>) -> Int? = { _ in nil },
                       _ each: (ArraySlice<UInt8>?, Double, Int64?) throws -> Void) throws {
        if body.contentType.hasPrefix("application/openmetrics-text") {
            for family in try OpenMetricsParser.parse(String(decoding: body.bytes, as: UTF8.self)) {
                familyMetadata.withLock { $0[family.name] = MetricMetadata(type: family.type, help: family.help ?? "", unit: family.unit ?? "") }
                for s in family.samples {
                    let text = s.name + (s.labels.isEmpty ? "" : "{" + s.labels.map { "\($0.name)=\(quoteLabelValue($0.value))" }.joined(separator: ",") + "}")
                    try each(Array(text.utf8)[...], s.value, s.timestamp)
                }
            }
            return
        }
        var parser = TextParser(body.bytes, metadata: false)
        while let line = try parser.nextLine(known: known) {
            if case .sample(let series, let value, let timestamp) = line {
                try each(parser.matchedKnown ? nil : body.bytes[series], value, timestamp)
            }
        }
        // Metadata is read again only when a comment line changed since the last scrape.
        guard parser.commentDigest != commentDigest else { return }
        commentDigest = parser.commentDigest
        familyMetadata.withLock { m in
            for case .metadata(let kind, let metric, let text) in TextParser.metadata(of: body.bytes) {
                var entry = m[metric] ?? MetricMetadata()
                switch kind {
                case "TYPE": entry.type = text
                case "HELP": entry.help = text.replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\\\", with: "\\")
                default: entry.unit = text
                }
                m[metric] = entry
            }
        }
    }

    /// `host[:port]` of a URL, as a Host header gives it.
    static func authority(_ c: URLComponents) -> String {
        let host = c.percentEncodedHost ?? ""
        return c.port.map { "\(host):\($0)" } ?? host
    }

    /// The synthetic series of one scrape.
    func report(up: Bool, seconds: Double, result: (scraped: Int, kept: Int, added: Int), at time: Int64) {
        let app = storage.makeAppender()
        let values: [(String, Double)] = [
            ("up", up ? 1 : 0), ("scrape_duration_seconds", seconds), ("scrape_samples_scraped", Double(result.scraped)),
            ("scrape_samples_post_metric_relabeling", Double(result.kept)), ("scrape_series_added", Double(result.added)),
        ]
        for (name, v) in values { _ = try? app.append(target.labels.setting(Labels.metricName, to: name), time, v) }
        try? app.commit()
    }

    /// Stale markers for every series of the last scrape (target gone or scrape failed); the
    /// synthetic series too when the target is gone.
    func markAllStale(at time: Int64, keepReports: Bool = false) {
        let app = storage.makeAppender()
        for e in cache.entries where e.lastSeen == scrapeNumber && scrapeNumber > 0 && !e.dropped {
            try? app.append(e.ref, time, staleMarker)
        }
        for ref in uncachedPrevious { try? app.append(ref, time, staleMarker) }
        if !keepReports {
            for name in ["up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"] {
                _ = try? app.append(target.labels.setting(Labels.metricName, to: name), time, staleMarker)
            }
        }
        try? app.commit()
        // The next successful scrape starts afresh: nothing counts as seen before it.
        scrapeNumber += 1
        uncachedPrevious = []
    }
}

/// TYPE, HELP and UNIT of a metric family.
public struct MetricMetadata: Sendable, Equatable {
    public var type = "unknown"
    public var help = ""
    public var unit = ""

    public init(type: String = "unknown", help: String = "", unit: String = "") {
        self.type = type
        self.help = help
        self.unit = unit
    }
}

