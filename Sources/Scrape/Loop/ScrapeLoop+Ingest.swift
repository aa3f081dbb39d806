import Exposition
import Foundation
import Storage

/// A fetched body into the store: parsed, relabeled, held to the job's limits, appended in one
/// transaction with stale markers for series that went away. Testable without HTTP: a body
/// and a time in, counts out.
extension ScrapeLoop {
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
    func finalLabels(_ scraped: Labels) throws -> Labels? {
        var labels = scraped
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
            // Validated whole (OpenMetrics rules span families); each sample's series text is
            // then a slice of the body, looked up as the text format's is.
            for family in try OpenMetricsParser.parse(body.bytes) {
                familyMetadata.withLock { $0[family.name] = MetricMetadata(type: family.type, help: family.help ?? "", unit: family.unit ?? "") }
                for s in family.samples { try each(body.bytes[s.series], s.value, s.timestamp) }
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
                m[metric, default: MetricMetadata()].set(kind, text)
            }
        }
    }
}
