import Foundation
import Storage

/// Functions over range vectors.
enum RangeFunction: String {
    case rate, increase, delta, irate, idelta, deriv, resets, changes
    case predictLinear = "predict_linear", holtWinters = "holt_winters"
    case avgOverTime = "avg_over_time", minOverTime = "min_over_time", maxOverTime = "max_over_time"
    case sumOverTime = "sum_over_time", countOverTime = "count_over_time", lastOverTime = "last_over_time"
    case presentOverTime = "present_over_time", stddevOverTime = "stddev_over_time"
    case stdvarOverTime = "stdvar_over_time", quantileOverTime = "quantile_over_time"
    case absentOverTime = "absent_over_time"

    /// Index of the range-vector argument.
    var matrixArgument: Int { self == .quantileOverTime ? 1 : 0 }
}

/// The samples of one series inside one window (views into the series' arrays, valid only
/// inside the loop that made them).
struct Window {
    let ts: UnsafeBufferPointer<Int64>
    let vs: UnsafeBufferPointer<Double>
    /// Window end (the reference time) and range, in milliseconds.
    let end: Int64
    let range: Int64
    /// False when the window is known to hold no counter reset (the correction loop is skipped).
    var mayHaveResets = true

    var count: Int { ts.count }
}

extension Evaluator {
    func rangeFunction(_ f: RangeFunction, _ args: [Expr]) throws(QueryError) -> EvalValue {
        var scalarArgs: [[Double]] = []
        for (i, a) in args.enumerated() where i != f.matrixArgument { scalarArgs.append(try scalars(a)) }
        if f == .holtWinters {
            for k in 0..<steps {
                for (i, v) in [scalarArgs[0][k], scalarArgs[1][k]].enumerated() where v <= 0 || v >= 1 {
                    throw .execution("invalid \(i == 0 ? "smoothing" : "trend") factor. Expected: 0 < \(i == 0 ? "sf" : "tf") < 1, got: \(formatGo(v))")
                }
            }
        }
        let p0 = scalarArgs.first ?? [], p1 = scalarArgs.count > 1 ? scalarArgs[1] : []
        let counter = f == .rate || f == .increase
        let steps = self.steps
        let out = try mapRangeSeries(args[f.matrixArgument]) { range, windowEnds, labels, times, values -> StepSeries? in
            var y = StepSeries(labels: f == .lastOverTime ? labels : labels.droppingMetricName, steps: steps)
            // Positions where a counter drops, so windows without one skip the reset loop.
            var resets: [Int] = []
            if counter { for j in values.indices.dropFirst() where values[j] < values[j - 1] { resets.append(j) } }
            var lo = 0, hi = 0, nextReset = 0
            let rangeSeconds = Double(range) / 1000
            for k in 0..<steps {
                let end = windowEnds[k], start = end - range
                // Window ends only move forward (or stay put with @), so both bounds slide.
                if lo > 0 && times[lo - 1] >= start { lo = 0; hi = 0 }
                while lo < times.count && times[lo] < start { lo += 1 }
                if hi < lo { hi = lo }
                while hi < times.count && times[hi] <= end { hi += 1 }
                guard hi > lo else { continue }
                var w = Window(ts: UnsafeBufferPointer(rebasing: times[lo..<hi]),
                               vs: UnsafeBufferPointer(rebasing: values[lo..<hi]), end: end, range: range)
                if counter {
                    if nextReset > 0 && resets[nextReset - 1] > lo { nextReset = 0 }
                    while nextReset < resets.count && resets[nextReset] <= lo { nextReset += 1 }
                    w.mayHaveResets = nextReset < resets.count && resets[nextReset] < hi
                }
                // rate and increase straight to their computation: they are most of a dashboard.
                let v = counter ? extrapolatedRate(w, counter: true, rate: f == .rate, rangeSeconds: rangeSeconds)
                    : apply(f, w, p0.isEmpty ? 0 : p0[k], p1.isEmpty ? 0 : p1[k], stepTime: time(k))
                if let v { y.set(k, v) }
            }
            return y.isEmpty ? nil : y
        }
        if f == .absentOverTime { return .vector(absentOverTime(out, args[0])) }
        // Distinct inputs of one metric name stay distinct without it; so do kept names.
        if f != .lastOverTime && !Self.selectsOneMetricName(args[f.matrixArgument]) { try checkDistinctSeries(out) }
        try context.hold(out.reduce(0) { $0 + $1.present.lazy.filter { $0 }.count })
        return .vector(out)
    }

    /// Whether every series `e` selects has the same metric name (an equality matcher on it).
    static func selectsOneMetricName(_ e: Expr) -> Bool {
        switch e {
        case .paren(let x): selectsOneMetricName(x)
        case .matrixSelector(let s, _): s.matchers.contains { $0.name == Labels.metricName && $0.type == .equal }
        default: false
        }
    }

    func absentOverTime(_ found: [StepSeries], _ arg: Expr) -> [StepSeries] {
        var y = StepSeries(labels: Evaluator.absentLabels(arg), steps: steps)
        for k in 0..<steps where !found.contains(where: { $0.present[k] }) { y.set(k, 1) }
        return y.isEmpty ? [] : [y]
    }

    /// The function's value over one window; `p0`, `p1` are its scalar arguments at this step.
    func apply(_ f: RangeFunction, _ w: Window, _ p0: Double, _ p1: Double, stepTime: Int64) -> Double? {
        switch f {
        case .rate: return extrapolatedRate(w, counter: true, rate: true, rangeSeconds: Double(w.range) / 1000)
        case .increase: return extrapolatedRate(w, counter: true, rate: false, rangeSeconds: 0)
        case .delta: return extrapolatedRate(w, counter: false, rate: false, rangeSeconds: 0)
        case .irate, .idelta:
            guard w.count >= 2 else { return nil }
            let last = w.vs[w.vs.endIndex - 1], previous = w.vs[w.vs.endIndex - 2]
            var value = f == .irate && last < previous ? last : last - previous
            if f == .irate {
                let interval = w.ts[w.ts.endIndex - 1] - w.ts[w.ts.endIndex - 2]
                guard interval != 0 else { return nil }
                value /= Double(interval) / 1000
            }
            return value
        case .deriv:
            guard w.count >= 2 else { return nil }
            return linearRegression(w, interceptTime: w.ts[w.ts.startIndex]).slope
        case .predictLinear:
            guard w.count >= 2 else { return nil }
            let (slope, intercept) = linearRegression(w, interceptTime: stepTime)
            return intercept + slope * p0
        case .holtWinters:
            guard w.count >= 2 else { return nil }
            return holtWinters(w, smoothing: p0, trend: p1)
        case .resets:
            var n = 0
            for i in w.vs.indices.dropFirst() where w.vs[i] < w.vs[i - 1] { n += 1 }
            return Double(n)
        case .changes:
            var n = 0
            for i in w.vs.indices.dropFirst() where w.vs[i] != w.vs[i - 1] && !(w.vs[i].isNaN && w.vs[i - 1].isNaN) { n += 1 }
            return Double(n)
        case .avgOverTime: return average(w.vs)
        case .minOverTime:
            var m = w.vs[w.vs.startIndex]
            for v in w.vs where v < m || m.isNaN { m = v }
            return m
        case .maxOverTime:
            var m = w.vs[w.vs.startIndex]
            for v in w.vs where v > m || m.isNaN { m = v }
            return m
        case .sumOverTime:
            var sum = 0.0, c = 0.0
            for v in w.vs { (sum, c) = kahanSumInc(v, sum, c) }
            return sum.isInfinite ? sum : sum + c
        case .countOverTime: return Double(w.count)
        case .lastOverTime: return w.vs[w.vs.endIndex - 1]
        case .presentOverTime, .absentOverTime: return 1
        case .stddevOverTime, .stdvarOverTime:
            var count = 0.0, mean = 0.0, cMean = 0.0, aux = 0.0, cAux = 0.0
            for v in w.vs {
                count += 1
                let delta = v - (mean + cMean)
                (mean, cMean) = kahanSumInc(delta / count, mean, cMean)
                (aux, cAux) = kahanSumInc(delta * (v - (mean + cMean)), aux, cAux)
            }
            let variance = (aux + cAux) / count
            return f == .stdvarOverTime ? variance : variance.squareRoot()
        case .quantileOverTime: return quantile(p0, Array(w.vs))
        }
    }

    /// rate, increase and delta: the change over the window, corrected for counter resets and
    /// extrapolated towards the window's edges (Prometheus' extrapolatedRate). `rangeSeconds`
    /// is the window's range in seconds (used by rate only; computed once per series).
    @inline(__always)
    func extrapolatedRate(_ w: Window, counter: Bool, rate: Bool, rangeSeconds: Double) -> Double? {
        guard w.count >= 2 else { return nil }
        let first = w.vs[w.vs.startIndex], last = w.vs[w.vs.endIndex - 1]
        let firstT = w.ts[w.ts.startIndex], lastT = w.ts[w.ts.endIndex - 1]
        var result = last - first
        if counter && w.mayHaveResets {
            var previous = 0.0
            for v in w.vs {
                if v < previous { result += previous }
                previous = v
            }
        }
        let rangeStart = w.end - w.range
        var durationToStart = Double(firstT - rangeStart) / 1000
        let durationToEnd = Double(w.end - lastT) / 1000
        let sampled = Double(lastT - firstT) / 1000
        let averageInterval = sampled / Double(w.count - 1)
        if counter && result > 0 && first >= 0 {
            let durationToZero = sampled * (first / result)
            if durationToZero < durationToStart { durationToStart = durationToZero }
        }
        let threshold = averageInterval * 1.1
        var interval = sampled
        interval += durationToStart < threshold ? durationToStart : averageInterval / 2
        interval += durationToEnd < threshold ? durationToEnd : averageInterval / 2
        result *= interval / sampled
        if rate { result /= rangeSeconds }
        return result
    }

    func linearRegression(_ w: Window, interceptTime: Int64) -> (slope: Double, intercept: Double) {
        var n = 0.0, sumX = 0.0, sumY = 0.0, sumXY = 0.0, sumX2 = 0.0
        let initY = w.vs[w.vs.startIndex]
        var constY = true
        for (t, v) in zip(w.ts, w.vs) {
            if constY && v != initY { constY = false }
            n += 1
            let x = Double(t - interceptTime) / 1000
            sumX += x
            sumY += v
            sumXY += x * v
            sumX2 += x * x
        }
        if constY {
            if initY.isInfinite { return (.nan, .nan) }
            return (0, initY)
        }
        let covXY = sumXY - sumX * sumY / n
        let varX = sumX2 - sumX * sumX / n
        let slope = covXY / varX
        return (slope, sumY / n - slope * sumX / n)
    }

    func holtWinters(_ w: Window, smoothing sf: Double, trend tf: Double) -> Double {
        let v = Array(w.vs)
        var s0 = 0.0, s1 = v[0], b = v[1] - v[0]
        for i in 1..<v.count {
            let x = sf * v[i]
            if i > 1 { b = tf * (s1 - s0) + (1 - tf) * b }
            let y = (1 - sf) * (s1 + b)
            s0 = s1
            s1 = x + y
        }
        return s1
    }

    func average(_ vs: UnsafeBufferPointer<Double>) -> Double {
        var mean = 0.0, count = 0.0, c = 0.0
        for v in vs {
            count += 1
            if mean.isInfinite {
                if v.isInfinite && (mean > 0) == (v > 0) { continue }
                if !v.isInfinite && !v.isNaN { continue }
            }
            (mean, c) = kahanSumInc(v / count - mean / count, mean, c)
        }
        return mean.isInfinite ? mean : mean + c
    }
}

/// Neumaier-compensated addition: (sum, compensation) after adding `inc`.
@inline(__always)
func kahanSumInc(_ inc: Double, _ sum: Double, _ c: Double) -> (Double, Double) {
    let t = sum + inc
    var c = c
    if abs(sum) >= abs(inc) { c += (sum - t) + inc } else { c += (inc - t) + sum }
    return (t, c)
}

/// A number as Go's `%f`-less `%v`-ish formatting in error messages (`0.5`, `1`).
func formatGo(_ v: Double) -> String {
    String(format: "%f", v)
}
