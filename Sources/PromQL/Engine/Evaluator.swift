import Storage

/// Evaluates expressions at every step of [start, end]: each node yields its value at all
/// steps at once, so a range query reads each series once, not once per step.
final class Evaluator {
    let context: EvalContext
    let start: Int64
    let end: Int64
    let interval: Int64
    let steps: Int

    init(context: EvalContext, start: Int64, end: Int64, interval: Int64) {
        self.context = context
        self.start = start
        self.end = end
        self.interval = max(interval, 1)
        steps = end < start ? 0 : Int((end - start) / max(interval, 1)) + 1
    }

    @inline(__always)
    func time(_ step: Int) -> Int64 { start + Int64(step) * interval }

    func eval(_ e: Expr) throws(QueryError) -> EvalValue {
        try context.checkDeadline()
        switch e {
        case .number(let v): return .scalar(Array(repeating: v, count: steps))
        case .string(let s): return .string(s)
        case .paren(let x): return try eval(x)
        case .negate(let x): return try negate(x)
        case .vectorSelector(let s): return .vector(try selectInstant(s))
        case .matrixSelector, .subquery: return .matrix(try rangeSource(e).series)
        case .call(let name, let args): return try call(name, args)
        case .aggregate(let op, let x, let p, let grouping, let without, _):
            return try aggregate(op, x, parameter: p, grouping: grouping, without: without)
        case .binary(let op, let l, let r, let m, let b): return try binary(op, l, r, matching: m, returnBool: b)
        }
    }

    func negate(_ x: Expr) throws(QueryError) -> EvalValue {
        switch try eval(x) {
        case .scalar(let v): return .scalar(v.map { -$0 })
        case .vector(var series):
            for i in series.indices {
                series[i].labels = series[i].labels.droppingMetricName
                for k in 0..<steps where series[i].present[k] { series[i].values[k] = -series[i].values[k] }
            }
            try checkDistinctSeries(series)
            return .vector(series)
        default: throw .execution("unexpected operand of unary minus")
        }
    }

    /// The query result in the API's shape.
    func result(_ value: EvalValue, instant: Bool) -> QueryValue {
        switch value {
        case .string(let s): return .string(t: start, s: s)
        case .matrix(let m):
            return .matrix(m.map { SeriesPoints(labels: $0.labels, timestamps: $0.timestamps, values: $0.values) })
        case .scalar(let v):
            if instant { return .scalar(t: start, v: v.first ?? .nan) }
            return .matrix([SeriesPoints(labels: .empty, timestamps: (0..<steps).map(time), values: v)])
        case .vector(let series):
            if instant {
                return .vector(series.compactMap { s in
                    s.present.first == true ? InstantSample(labels: s.labels, t: start, v: s.values[0]) : nil
                })
            }
            var out: [SeriesPoints] = []
            for s in series {
                var ts: [Int64] = [], vs: [Double] = []
                ts.reserveCapacity(steps)
                vs.reserveCapacity(steps)
                for k in 0..<steps where s.present[k] {
                    ts.append(time(k))
                    vs.append(s.values[k])
                }
                if !ts.isEmpty { out.append(SeriesPoints(labels: s.labels, timestamps: ts, values: vs)) }
            }
            out.sort { Labels.compare($0.labels, $1.labels) < 0 }
            return .matrix(out)
        }
    }

    // MARK: - Duplicate label sets

    /// Prometheus' "vector cannot contain metrics with the same labelset", checked on whole
    /// series (functions over ranges, unary minus).
    func checkDistinctSeries(_ series: [StepSeries]) throws(QueryError) {
        var seen = Set<Labels>()
        for s in series where !s.isEmpty {
            if !seen.insert(s.labels).inserted { throw .execution("vector cannot contain metrics with the same labelset") }
        }
    }

    /// Series with equal labels merged; an error when two are present at the same step.
    func mergeSameLabels(_ series: [StepSeries]) throws(QueryError) -> [StepSeries] {
        var index: [Labels: Int] = [:]
        var out: [StepSeries] = []
        out.reserveCapacity(series.count)
        for s in series where !s.isEmpty {
            if let i = index[s.labels] {
                for k in 0..<steps where s.present[k] {
                    if out[i].present[k] { throw .execution("vector cannot contain metrics with the same labelset") }
                    out[i].set(k, s.values[k])
                }
            } else {
                index[s.labels] = out.count
                out.append(s)
            }
        }
        return out
    }

    // MARK: - Argument helpers

    func scalars(_ e: Expr) throws(QueryError) -> [Double] {
        guard case .scalar(let v) = try eval(e) else { throw .execution("expected a scalar") }
        return v
    }

    func vector(_ e: Expr) throws(QueryError) -> [StepSeries] {
        guard case .vector(let v) = try eval(e) else { throw .execution("expected an instant vector") }
        return v
    }

    func string(_ e: Expr) throws(QueryError) -> String {
        guard case .string(let s) = try eval(e) else { throw .execution("expected a string") }
        return s
    }
}

extension Labels {
    /// These labels without the metric name.
    var droppingMetricName: Labels {
        guard self[Labels.metricName] != nil else { return self }
        return Labels(sorted: pairs.filter { $0.name != Labels.metricName })
    }
}
