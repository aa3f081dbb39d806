import Foundation
import Storage

/// sum, avg, count, min, max, group, stddev, stdvar, topk, bottomk, quantile, count_values.
extension Evaluator {
    func aggregate(_ op: AggregateOp, _ x: Expr, parameter: Expr?, grouping: [String], without: Bool) throws(QueryError) -> EvalValue {
        var param: [Double] = []
        var valueLabel = ""
        if let parameter {
            if op == .countValues { valueLabel = try string(parameter) } else { param = try scalars(parameter) }
        }
        let input = try vector(x)
        switch op {
        case .topk, .bottomk: return .vector(try selectK(input, k: param, grouping: grouping, without: without, top: op == .topk))
        case .countValues: return .vector(try countValues(input, label: valueLabel, grouping: grouping, without: without))
        default: break
        }
        // Groups are fixed by labels, so they are built once for all steps.
        var groupIndex: [Labels: Int] = [:]
        var members: [[Int]] = []
        var labels: [Labels] = []
        for (i, s) in input.enumerated() {
            let key = groupLabels(s.labels, grouping, without: without)
            if let g = groupIndex[key] { members[g].append(i) } else {
                groupIndex[key] = members.count
                members.append([i])
                labels.append(key)
            }
        }
        var out: [StepSeries] = []
        var values: [Double] = []
        for (g, list) in members.enumerated() {
            var y = StepSeries(labels: labels[g], steps: steps)
            if op == .sum || op == .count || op == .group {
                // Accumulate series by series: no per-step gathering.
                for i in list {
                    let s = input[i]
                    for k in 0..<steps where s.present[k] {
                        let add = op == .sum ? s.values[k] : 1
                        y.values[k] = y.present[k] ? (op == .group ? 1 : y.values[k] + add) : add
                        y.present[k] = true
                    }
                }
                if !y.isEmpty { out.append(y) }
                continue
            }
            for k in 0..<steps {
                values.removeAll(keepingCapacity: true)
                for i in list where input[i].present[k] { values.append(input[i].values[k]) }
                guard !values.isEmpty else { continue }
                y.set(k, reduce(op, values, parameter: param.isEmpty ? 0 : param[k]))
            }
            if !y.isEmpty { out.append(y) }
        }
        try context.hold(out.count)
        return .vector(out)
    }

    /// The output labels of a group: the `by` labels, or all but the `without` labels and the
    /// metric name.
    func groupLabels(_ l: Labels, _ grouping: [String], without: Bool) -> Labels {
        let set = Set(grouping)
        if without {
            return Labels(sorted: l.pairs.filter { !set.contains($0.name) && $0.name != Labels.metricName })
        }
        return Labels(sorted: l.pairs.filter { set.contains($0.name) })
    }

    func reduce(_ op: AggregateOp, _ v: [Double], parameter: Double) -> Double {
        switch op {
        case .sum:
            var s = 0.0
            for x in v { s += x }
            return s
        case .avg:
            var mean = v[0], count = 1.0
            for x in v.dropFirst() {
                count += 1
                if mean.isInfinite {
                    if x.isInfinite && (mean > 0) == (x > 0) { continue }
                    if !x.isInfinite && !x.isNaN { continue }
                }
                mean += x / count - mean / count
            }
            return mean
        case .count: return Double(v.count)
        case .group: return 1
        case .min:
            var m = v[0]
            for x in v.dropFirst() where m > x || m.isNaN { m = x }
            return m
        case .max:
            var m = v[0]
            for x in v.dropFirst() where m < x || m.isNaN { m = x }
            return m
        case .stddev, .stdvar:
            var mean = v[0], acc = 0.0, count = 1.0
            for x in v.dropFirst() {
                count += 1
                let delta = x - mean
                mean += delta / count
                acc += delta * (x - mean)
            }
            return op == .stdvar ? acc / count : (acc / count).squareRoot()
        case .quantile: return quantile(parameter, v)
        case .topk, .bottomk, .countValues: return .nan
        }
    }

    func selectK(_ input: [StepSeries], k: [Double], grouping: [String], without: Bool, top: Bool) throws(QueryError) -> [StepSeries] {
        var groupIndex: [Labels: Int] = [:]
        var members: [[Int]] = []
        for (i, s) in input.enumerated() {
            let key = groupLabels(s.labels, grouping, without: without)
            if let g = groupIndex[key] { members[g].append(i) } else {
                groupIndex[key] = members.count
                members.append([i])
            }
        }
        var out = input.map { StepSeries(labels: $0.labels, steps: steps) }
        for step in 0..<steps {
            let kv = k.isEmpty ? 1 : k[step]
            guard kv.isFinite || kv.isNaN, abs(kv) < 9.2e18 else {
                throw .execution("Scalar value \(formatNumberLiteral(kv)) overflows int64")
            }
            let n = Int(kv.isNaN ? 0 : kv)
            guard n >= 1 else { continue }
            for list in members {
                let present = list.filter { input[$0].present[step] }
                // NaN sorts last either way, as in Prometheus' heaps.
                let ranked = present.sorted { a, b in
                    let x = input[a].values[step], y = input[b].values[step]
                    if x.isNaN { return false }
                    if y.isNaN { return true }
                    return top ? x > y : x < y
                }
                for i in ranked.prefix(n) { out[i].set(step, input[i].values[step]) }
            }
        }
        // Ordered as Prometheus returns them for an instant query: by group, best first.
        if steps == 1 {
            var ordered: [StepSeries] = []
            for list in members {
                let chosen = list.filter { out[$0].present[0] }.sorted { a, b in
                    let x = out[a].values[0], y = out[b].values[0]
                    if x.isNaN { return false }
                    if y.isNaN { return true }
                    return top ? x > y : x < y
                }
                ordered.append(contentsOf: chosen.map { out[$0] })
            }
            return ordered
        }
        return out.filter { !$0.isEmpty }
    }

    func countValues(_ input: [StepSeries], label: String, grouping: [String], without: Bool) throws(QueryError) -> [StepSeries] {
        guard isValidLabelName(label) else { throw .execution("invalid label name \"\(label)\"") }
        var index: [Labels: Int] = [:]
        var out: [StepSeries] = []
        let by = without ? grouping : grouping + [label]
        for k in 0..<steps {
            for s in input where s.present[k] {
                let labels = groupLabels(s.labels.setting(label, to: formatValue(s.values[k])), by, without: without)
                let i: Int
                if let j = index[labels] { i = j } else {
                    i = out.count
                    index[labels] = i
                    out.append(StepSeries(labels: labels, steps: steps))
                }
                out[i].set(k, (out[i].present[k] ? out[i].values[k] : 0) + 1)
            }
        }
        return out
    }
}

/// Quantile of values by linear interpolation between closest ranks (Prometheus' `quantile`).
func quantile(_ q: Double, _ values: [Double]) -> Double {
    if values.isEmpty || q.isNaN { return .nan }
    if q < 0 { return -.infinity }
    if q > 1 { return .infinity }
    let sorted = values.sorted { a, b in
        if a.isNaN { return !b.isNaN }
        return a < b
    }
    let n = Double(sorted.count)
    let rank = q * (n - 1)
    let lower = max(0, rank.rounded(.down))
    let upper = min(n - 1, lower + 1)
    let weight = rank - rank.rounded(.down)
    return sorted[Int(lower)] * (1 - weight) + sorted[Int(upper)] * weight
}

/// A sample value as the API and count_values print it: shortest decimal, no exponent
/// (Go's `FormatFloat(v, 'f', -1, 64)`), `+Inf`, `-Inf`, `NaN`.
public func formatValue(_ v: Double) -> String {
    if v.isNaN { return "NaN" }
    if v == .infinity { return "+Inf" }
    if v == -.infinity { return "-Inf" }
    return formatShortest(v, exponentThreshold: nil)
}

