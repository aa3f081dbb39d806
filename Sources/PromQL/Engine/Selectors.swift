import Storage

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

    /// Every sample of the matching series in [mint, maxt], stale markers included unless
    /// `droppingStale` (then series left without samples are left out).
    func load(_ s: VectorSelector, mint: Int64, maxt: Int64, function: String? = nil,
              droppingStale: Bool = false) throws(QueryError) -> [RangeSeries] {
        let series = try selectSeries(s, mint: mint, maxt: maxt, function: function)
        return try SeriesMapper(context: context, droppingStale: droppingStale).map(series) { labels, ts, vs in
            RangeSeries(labels: labels, timestamps: Array(ts), values: Array(vs))
        }
    }

    /// An instant vector selector at every step: the newest sample within the lookback window
    /// (both ends included, as in Prometheus 2.42), absent when it is a stale marker.
    func selectInstant(_ s: VectorSelector) throws(QueryError) -> [StepSeries] {
        guard steps > 0 else { return [] }
        let refs = windowEnds(offset: s.offset, at: s.at)
        let lookback = context.options.lookbackDelta
        let series = try selectSeries(s, mint: (refs.min() ?? 0) - lookback, maxt: refs.max() ?? 0)
        let steps = self.steps
        let selected = try SeriesMapper(context: context, droppingStale: false).map(series) { labels, times, values -> (StepSeries, Int)? in
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
            return held > 0 ? (series, held) : nil
        }
        for (_, held) in selected { try context.hold(held) }
        return selected.map(\.0)
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
            let ends = windowEnds(offset: s.offset, at: s.at)
            let raw = try load(s, mint: (ends.min() ?? 0) - range, maxt: ends.max() ?? 0, droppingStale: true)
            return RangeSource(series: raw, range: range, windowEnds: ends)
        case .subquery(let inner, let range, let step, let offset, let at):
            let ends = windowEnds(offset: offset, at: at)
            return RangeSource(series: try subquery(inner, range: range, step: step, windowEnds: ends),
                               range: range, windowEnds: ends)
        default:
            throw .execution("expected a range vector")
        }
    }

    /// Maps each series of a range-vector expression (stale markers dropped) through
    /// `transform`, which also gets the range and the window ends: a range selector's series
    /// are read from storage one at a time per worker, on all cores when there are many.
    func mapRangeSeries<T>(_ e: Expr, _ transform: (_ range: Int64, _ windowEnds: [Int64], Labels, UnsafeBufferPointer<Int64>,
                                                    UnsafeBufferPointer<Double>) -> T?) throws(QueryError) -> [T] {
        switch e {
        case .paren(let x):
            return try mapRangeSeries(x, transform)
        case .matrixSelector(let s, let range):
            let ends = windowEnds(offset: s.offset, at: s.at)
            let series = try selectSeries(s, mint: (ends.min() ?? 0) - range, maxt: ends.max() ?? 0)
            return try SeriesMapper(context: context, droppingStale: true).map(series) { labels, ts, vs in
                transform(range, ends, labels, ts, vs)
            }
        default:
            let source = try rangeSource(e)
            return source.series.compactMap { r in
                r.timestamps.withUnsafeBufferPointer { ts in
                    r.values.withUnsafeBufferPointer { vs in transform(source.range, source.windowEnds, r.labels, ts, vs) }
                }
            }
        }
    }

    /// The reference time of every step (a step's window ends there; an instant selector
    /// looks back from it).
    func windowEnds(offset: Int64, at: AtModifier?) -> [Int64] {
        (0..<steps).map { referenceTime($0, offset: offset, at: at) }
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
        // Every series of the inner expression holds a point per subquery step: refuse before
        // anything of that size is allocated (Prometheus counts these points too).
        try context.hold(Int((last - subStart) / every + 1))
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

