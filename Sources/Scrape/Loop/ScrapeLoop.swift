import AsyncHTTPClient
import Exposition
import Foundation
import Logging
import NIOCore
import Storage

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

    /// A loop that only ingests bodies handed to it (`ingest`), with the shared HTTP client
    /// for the scrapes it is never asked to run: benchmarks and tools that push bodies.
    public convenience init(target: ScrapeTarget, storage: any Appendable) {
        self.init(target: target, storage: storage, client: .shared, logger: Logger(label: "sextant.scrape"))
    }

    public var health: TargetHealth { state.withLock { $0 } }

    /// The ingest half of a scrape, without HTTP: `body` (text format or OpenMetrics, by
    /// `contentType`) parsed, relabeled, held to the job's limits and appended in one
    /// transaction at `time`, with stale markers for series of the previous body that are gone.
    /// Throws what fails the scrape; then nothing was appended.
    public func ingest(_ body: [UInt8], contentType: String, at time: Int64) throws -> (scraped: Int, kept: Int, added: Int) {
        try append((body, contentType), at: time)
    }

    /// Metadata of the target's metric families, by family name.
    public var metadata: [String: MetricMetadata] { familyMetadata.withLock { $0 } }

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

}
