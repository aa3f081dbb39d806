import TSDB

/// Reading series from storage: instant selection with lookback and staleness, and raw
/// samples for range windows (range selectors and subqueries).
extension Evaluator {
    /// The time a selector reads at for `step`: the `@` time or the step's, minus the offset.
    @inline(__always)
    func referenceTime(_ step: Int, offset: Int64, at: AtModifier?) -> Int64 {
        let base: Int64
        switch at {
        case .timestamp(let t)?: base = t
        case .start?: base = context.queryStart
        case .end?: base = context.queryEnd
        case nil: base = time(step)
        }
        return base - offset
    }

    /// Every sample of the matching series in [mint, maxt], stale markers included.
    func load(_ s: VectorSelector, mint: Int64, maxt: Int64, function: String? = nil) throws(QueryError) -> [RangeSeries] {
        var out: [RangeSeries] = []
        try forEachSeries(s, mint: mint, maxt: maxt, function: function) { labels, ts, vs throws(QueryError) in
            out.append(RangeSeries(labels: labels, timestamps: Array(ts), values: Array(vs)))
        }
        return out
    }

    /// Calls `body` with each matching series and its samples in [mint, maxt] (stale markers
    /// included, or dropped with `droppingStale`), one series at a time in two reused buffers,
    /// so a query over many series never holds all their raw samples at once.
    func forEachSeries(_ s: VectorSelector, mint: Int64, maxt: Int64, function: String? = nil, droppingStale: Bool = false,
                       _ body: (Labels, UnsafeBufferPointer<Int64>, UnsafeBufferPointer<Double>) throws(QueryError) -> Void) throws(QueryError) {
        let querier = context.storage.querier(mint: mint, maxt: maxt)
        var set = querier.select(s.matchers, hints: SelectHints(start: mint, end: maxt, step: interval, function: function))
        var ts: [Int64] = [], vs: [Double] = []
        while set.next() {
            let series = set.at()
            var it = series.makeIterator()
            ts.removeAll(keepingCapacity: true)
            vs.removeAll(keepingCapacity: true)
            it.drain(timestamps: &ts, values: &vs)
            if let e = it.error { throw .execution("reading \(series.labels): \(e)") }
            try context.hold(ts.count)
            context.samples -= ts.count     // raw samples are transient; only selected points stay held
            if droppingStale { Self.dropStaleMarkers(&ts, &vs) }
            if droppingStale && ts.isEmpty { continue }
            var failure: QueryError?
            ts.withUnsafeBufferPointer { t in
                vs.withUnsafeBufferPointer { v in
                    do throws(QueryError) { try body(series.labels, t, v) } catch { failure = error }
                }
            }
            if let failure { throw failure }
        }
        if let e = set.error { throw .execution("expanding series: \(e)") }
    }

    /// An instant vector selector at every step: the newest sample within the lookback window
    /// (both ends included, as in Prometheus 2.42), absent when it is a stale marker.
    func selectInstant(_ s: VectorSelector) throws(QueryError) -> [StepSeries] {
        guard steps > 0 else { return [] }
        let refs = (0..<steps).map { referenceTime($0, offset: s.offset, at: s.at) }
        let lookback = context.options.lookbackDelta
        var out: [StepSeries] = []
        try forEachSeries(s, mint: (refs.min() ?? 0) - lookback, maxt: refs.max() ?? 0) { labels, times, values throws(QueryError) in
            var series = StepSeries(labels: labels, steps: steps)
            var p = -1      // index of the newest sample at or before the reference time
            var held = 0
            for k in 0..<steps {
                let ref = refs[k]
                if p >= 0 && times[p] > ref { p = -1 }   // refs only go back with @ (constant) so reset
                while p + 1 < times.count && times[p + 1] <= ref { p += 1 }
                guard p >= 0, times[p] >= ref - lookback else { continue }
                let v = values[p]
                if v.bitPattern == staleMarkerBits { continue }
                series.set(k, v)
                held += 1
            }
            if held > 0 {
                try context.hold(held)
                out.append(series)
            }
        }
        return out
    }

    /// The raw series a range-vector expression reads, with the window for each step.
    struct RangeSource {
        var series: [RangeSeries]
        var range: Int64
        /// Window end (inclusive) per step; the window is [end - range, end].
        var windowEnds: [Int64]
    }

    /// Evaluates a range selector or subquery into raw series (stale markers dropped).
    func rangeSource(_ e: Expr) throws(QueryError) -> RangeSource {
        switch e {
        case .paren(let x): return try rangeSource(x)
        case .matrixSelector(let s, let range):
            let ends = (0..<steps).map { referenceTime($0, offset: s.offset, at: s.at) }
            var raw = try load(s, mint: (ends.min() ?? 0) - range, maxt: ends.max() ?? 0)
            for i in raw.indices { dropStaleMarkers(&raw[i]) }
            raw.removeAll { $0.timestamps.isEmpty }
            return RangeSource(series: raw, range: range, windowEnds: ends)
        case .subquery(let inner, let range, let step, let offset, let at):
            let ends = (0..<steps).map { referenceTime($0, offset: offset, at: at) }
            return RangeSource(series: try subquery(inner, range: range, step: step, windowEnds: ends),
                               range: range, windowEnds: ends)
        default:
            throw .execution("expected a range vector")
        }
    }

    /// Calls `body` with each series of a range-vector expression (stale markers dropped) and
    /// the windows: a range selector's series are streamed from storage one at a time.
    func forEachRangeSeries(_ e: Expr, _ body: (_ range: Int64, _ windowEnds: [Int64], Labels, UnsafeBufferPointer<Int64>,
                                                UnsafeBufferPointer<Double>) throws(QueryError) -> Void) throws(QueryError) {
        switch e {
        case .paren(let x):
            try forEachRangeSeries(x, body)
        case .matrixSelector(let s, let range):
            let ends = (0..<steps).map { referenceTime($0, offset: s.offset, at: s.at) }
            try forEachSeries(s, mint: (ends.min() ?? 0) - range, maxt: ends.max() ?? 0, droppingStale: true) {
                labels, ts, vs throws(QueryError) in try body(range, ends, labels, ts, vs)
            }
        default:
            let source = try rangeSource(e)
            for r in source.series {
                var failure: QueryError?
                r.timestamps.withUnsafeBufferPointer { ts in
                    r.values.withUnsafeBufferPointer { vs in
                        do throws(QueryError) { try body(source.range, source.windowEnds, r.labels, ts, vs) } catch { failure = error }
                    }
                }
                if let failure { throw failure }
            }
        }
    }

    func dropStaleMarkers(_ r: inout RangeSeries) {
        Self.dropStaleMarkers(&r.timestamps, &r.values)
    }

    /// Removes stale markers from parallel arrays, in place.
    static func dropStaleMarkers(_ ts: inout [Int64], _ vs: inout [Double]) {
        guard let first = vs.firstIndex(where: { $0.bitPattern == staleMarkerBits }) else { return }
        var kept = first
        for i in first..<vs.count where vs[i].bitPattern != staleMarkerBits {
            ts[kept] = ts[i]
            vs[kept] = vs[i]
            kept += 1
        }
        ts.removeSubrange(kept...)
        vs.removeSubrange(kept...)
    }

    /// Evaluates `inner` at the subquery's own steps: multiples of its step from the first one
    /// after (first window end - range) up to the last window end.
    func subquery(_ inner: Expr, range: Int64, step: Int64?, windowEnds: [Int64]) throws(QueryError) -> [RangeSeries] {
        guard let first = windowEnds.min(), let last = windowEnds.max() else { return [] }
        let every = step ?? context.options.defaultSubqueryStep
        var subStart = every * ((first - range) / every)     // truncating division, as Go's
        if subStart < first - range { subStart += every }
        guard subStart <= last else { return [] }
        let child = Evaluator(context: context, start: subStart, end: last, interval: every)
        let value = try child.eval(inner)
        switch value {
        case .vector(let series):
            return series.compactMap { s in
                var ts: [Int64] = [], vs: [Double] = []
                for k in 0..<child.steps where s.present[k] {
                    ts.append(child.time(k))
                    vs.append(s.values[k])
                }
                return ts.isEmpty ? nil : RangeSeries(labels: s.labels, timestamps: ts, values: vs)
            }
        case .scalar(let v):
            return [RangeSeries(labels: .empty, timestamps: (0..<child.steps).map(child.time), values: v)]
        default:
            throw .execution("subquery is only allowed on instant vector")
        }
    }
}

/// The Prometheus stale marker's bit pattern.
let staleMarkerBits: UInt64 = 0x7ff0_0000_0000_0002
