import Foundation
import Storage

/// Runs a per-series computation over every series a selector matches, on all cores when
/// there are enough series: each worker takes a contiguous share of the series (so results
/// keep label order), drains each series' samples into its own reused buffers and keeps what
/// the computation returns. Limits are checked as in the serial path: no single series may
/// bring the query over its sample limit, and the deadline is checked before every series (a
/// clock read is nothing beside draining a series, and one series can be a lot of work).
struct SeriesMapper {
    let context: EvalContext
    let droppingStale: Bool

    func map<T>(_ series: [any Series],
                _ transform: (Labels, UnsafeBufferPointer<Int64>, UnsafeBufferPointer<Double>) -> T?) throws(QueryError) -> [T] {
        // Four shares per core, so a core that finishes early takes another share.
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let workers = series.count >= context.options.parallelSeriesThreshold ? max(1, min(cores * 4, series.count / 64, 64)) : 1
        let share = (series.count + workers - 1) / max(workers, 1)
        let budget = context.options.maxSamples - context.samples
        let deadline = context.deadline
        // Each worker reads its own contiguous share of `series` (immutable here) and returns
        // its results; `transform` keeps no state between calls.
        let parts = Parallel.map(workers) { w -> Result<[T], QueryError> in
            let range = min(w * share, series.count)..<min((w + 1) * share, series.count)
            do throws(QueryError) {
                return .success(try mapRange(series[range], budget: budget, deadline: deadline, transform))
            } catch {
                return .failure(error)
            }
        }
        if parts.count == 1 { return try parts[0].get() }
        var out: [T] = []
        for part in parts {
            switch part {
            case .success(let values): out += values
            case .failure(let error): throw error
            }
        }
        return out
    }

    func mapRange<T>(_ series: ArraySlice<any Series>, budget: Int, deadline: ContinuousClock.Instant,
                     _ transform: (Labels, UnsafeBufferPointer<Int64>, UnsafeBufferPointer<Double>) -> T?) throws(QueryError) -> [T] {
        var out: [T] = []
        var ts: [Int64] = [], vs: [Double] = []
        let cache = TimestampColumnCache()
        for s in series {
            if ContinuousClock.now > deadline { throw .timeout("expression evaluation") }
            var it = s.makeIterator()
            ts.removeAll(keepingCapacity: true)
            vs.removeAll(keepingCapacity: true)
            it.drain(timestamps: &ts, values: &vs, cache: cache)
            if let e = it.error { throw .execution("reading \(s.labels): \(e)") }
            if ts.count > budget { throw .tooManySamples }
            if droppingStale { Evaluator.dropStaleMarkers(&ts, &vs) }
            if ts.isEmpty && droppingStale { continue }
            let y = ts.withUnsafeBufferPointer { t in vs.withUnsafeBufferPointer { v in transform(s.labels, t, v) } }
            if let y { out.append(y) }
        }
        return out
    }
}

extension Evaluator {
    /// Every series a selector matches in [mint, maxt], not yet read.
    func selectSeries(_ s: VectorSelector, mint: Int64, maxt: Int64, function: String? = nil) throws(QueryError) -> [any Series] {
        let querier = context.storage.querier(mint: mint, maxt: maxt)
        var set = querier.select(s.matchers, hints: SelectHints(start: mint, end: maxt, step: interval, function: function))
        var out: [any Series] = []
        while set.next() { out.append(set.at()) }
        if let e = set.error { throw .execution("expanding series: \(e)") }
        return out
    }
}

