import Exposition
import Storage

/// One scrape's samples on their way into an appender: the loop's series cache (moved in for
/// the scrape), the guess at the next series, and the counts the scrape reports.
///
/// A value type worked on in place through mutating methods, so the per-sample path touches
/// the cache without copying it or checking exclusive access at run time.
struct ScrapeBatch {
    var cache: SeriesTextCache
    let app: any Appender
    let loop: ScrapeLoop
    /// The scrape's time, used for samples without their own (or when they are not honored).
    let time: Int64
    /// Number of this scrape (see `ScrapeLoop.scrapeNumber`).
    let current: Int
    /// The entry expected next: the one after the last found (targets keep their order).
    var guess = 0
    var scraped = 0, kept = 0, added = 0
    /// Entries marked seen by this scrape, with their previous mark (undone if it fails).
    var marks: [(index: Int, previous: Int)] = []
    /// Refs written by this scrape that are not in the cache (it was full).
    var uncachedSeen = Set<SeriesRef>()

    /// The length of the guessed series text when `line` starts with it.
    mutating func known(_ line: UnsafeBufferPointer<UInt8>) -> Int? {
        cache.prefixLength(of: guess, in: line)
    }

    /// Appends one sample; `series` is nil when the line held the guessed entry's text.
    mutating func add(_ series: ArraySlice<UInt8>?, _ value: Double, _ timestamp: Int64?) throws {
        let target = loop.target
        scraped += 1
        if target.sampleLimit > 0 && scraped > target.sampleLimit {
            throw ScrapeLoop.ScrapeFailure(description: "sample limit exceeded (\(target.sampleLimit))")
        }
        let t = target.honorTimestamps ? (timestamp ?? time) : time
        let (loop, app) = (loop, app)
        let resolved = try cache.resolve(series, guess: guess, seen: current, admit: loop.finalLabels) { labels in
            // A sample the head refuses (out of order after a restart, say) is skipped and its
            // series left uncached, as in Prometheus.
            guard let handle = try? app.appendReturningHandle(labels, t, value) else { return nil }
            return (handle.ref, handle)
        }
        switch resolved {
        case .cached(let i):
            try appendCached(i, t, value)
        case .created(let i, let ref):
            kept += 1
            added += 1
            if let i { noteNew(i) } else { uncachedSeen.insert(ref) }
        case .dropped(let i):
            if let i { noteNew(i) }
        case .refused:
            kept += 1
        }
    }

    /// A new entry, marked seen by this scrape; the next line likely holds the one after it.
    private mutating func noteNew(_ i: Int) {
        guess = i + 1
        marks.append((i, 0))
    }

    /// A sample of a cached series: through its handle, or skipped when relabeling drops it
    /// or the body repeats it.
    private mutating func appendCached(_ i: Int, _ t: Int64, _ value: Double) throws {
        guess = i + 1
        cache.prefetch(guess)
        let e = cache.entries[i]
        if e.lastSeen == current { return }        // a repeat within this body
        marks.append((i, e.lastSeen))
        cache.markSeen(i, scrape: current)
        if e.dropped { return }
        kept += 1
        guard let handle = e.handle else { return }
        do throws(AppendError) {
            try app.append(handle, t, value)
        } catch .unknownSeriesRef {
            // The head dropped the series while the target did not have it: create it again.
            let labels = try SampleLineParser.parseSeries(Substring(decoding: cache.key(i), as: UTF8.self))
            if let final = try loop.finalLabels(labels), let new = try? app.appendReturningHandle(final, t, value) {
                cache.replace(i, with: new)
                added += 1
            }
        } catch {
            // Out of order, duplicate or out of bounds: the head counts it; the sample is skipped.
        }
    }

    /// Undoes the seen marks of a failed scrape: nothing of it counts as seen.
    mutating func unmark() {
        for m in marks { cache.markSeen(m.index, scrape: m.previous) }
    }
}
