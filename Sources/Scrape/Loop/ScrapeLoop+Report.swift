import Storage

/// The series a scrape writes about itself, and the stale markers when a target fails or goes.
extension ScrapeLoop {
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
