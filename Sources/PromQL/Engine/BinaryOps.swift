import Foundation
import Storage

/// Arithmetic, comparison and set operators between scalars and vectors, with vector matching.
extension Evaluator {
    func binary(_ op: BinaryOp, _ l: Expr, _ r: Expr, matching: VectorMatching?, returnBool: Bool) throws(QueryError) -> EvalValue {
        let lv = try eval(l), rv = try eval(r)
        switch (lv, rv) {
        case (.scalar(let a), .scalar(let b)):
            return .scalar((0..<steps).map { k in
                let (v, keep) = elementOp(op, a[k], b[k])
                return op.isComparison ? (keep ? 1 : 0) : v
            })
        case (.vector(let series), .scalar(let s)):
            return .vector(try mergeSameLabels(vectorScalar(op, series, s, swap: false, returnBool: returnBool)))
        case (.scalar(let s), .vector(let series)):
            return .vector(try mergeSameLabels(vectorScalar(op, series, s, swap: true, returnBool: returnBool)))
        case (.vector(let a), .vector(let b)):
            let m = matching ?? VectorMatching()
            switch op {
            case .and: return .vector(setAnd(a, b, m, unless: false))
            case .unless: return .vector(setAnd(a, b, m, unless: true))
            case .or: return .vector(try setOr(a, b, m))
            default: return .vector(try vectorVector(op, a, b, m, returnBool: returnBool))
            }
        default:
            throw .execution("binary expression must contain only scalar and instant vector types")
        }
    }

    /// The value of `l op r` and, for comparisons, whether the pair passes (value is `l`).
    @inline(__always)
    func elementOp(_ op: BinaryOp, _ l: Double, _ r: Double) -> (Double, Bool) {
        switch op {
        case .add: (l + r, true)
        case .sub: (l - r, true)
        case .mul: (l * r, true)
        case .div: (l / r, true)
        case .mod: (fmod(l, r), true)
        case .pow: (pow(l, r), true)
        case .atan2: (atan2(l, r), true)
        case .eql: (l, l == r)
        case .neq: (l, l != r)
        case .gtr: (l, l > r)
        case .lss: (l, l < r)
        case .gte: (l, l >= r)
        case .lte: (l, l <= r)
        case .and, .or, .unless: (l, true)
        }
    }

    /// Arithmetic drops the metric name; comparisons, set operators and atan2 keep it (2.42).
    var dropsName: (BinaryOp) -> Bool { { op in !op.isComparison && !op.isSetOperator && op != .atan2 } }

    func vectorScalar(_ op: BinaryOp, _ series: [StepSeries], _ s: [Double], swap: Bool, returnBool: Bool) -> [StepSeries] {
        var out: [StepSeries] = []
        out.reserveCapacity(series.count)
        for x in series {
            var y = StepSeries(labels: dropsName(op) || returnBool ? x.labels.droppingMetricName : x.labels, steps: steps)
            for k in 0..<steps where x.present[k] {
                let (lv, rv) = swap ? (s[k], x.values[k]) : (x.values[k], s[k])
                var (v, keep) = elementOp(op, lv, rv)
                if op.isComparison && swap { v = rv }   // the vector's value, even on the right
                if returnBool { y.set(k, keep ? 1 : 0) } else if keep { y.set(k, v) }
            }
            if !y.isEmpty { out.append(y) }
        }
        return out
    }

    /// The label set two series are matched on.
    func signature(_ labels: Labels, _ m: VectorMatching) -> Labels {
        if m.on {
            let keep = Set(m.labels)
            return Labels(sorted: labels.pairs.filter { keep.contains($0.name) })
        }
        var drop = Set(m.labels)
        drop.insert(Labels.metricName)
        return Labels(sorted: labels.pairs.filter { !drop.contains($0.name) })
    }

    /// For each signature, the steps at which some series with it is present.
    func presenceBySignature(_ series: [StepSeries], _ m: VectorMatching) -> [Labels: [Bool]] {
        var out: [Labels: [Bool]] = [:]
        for s in series {
            let sig = signature(s.labels, m)
            var p = out[sig] ?? Array(repeating: false, count: steps)
            for k in 0..<steps where s.present[k] { p[k] = true }
            out[sig] = p
        }
        return out
    }

    func setAnd(_ a: [StepSeries], _ b: [StepSeries], _ m: VectorMatching, unless: Bool) -> [StepSeries] {
        let rightPresence = presenceBySignature(b, m)
        var out: [StepSeries] = []
        for s in a {
            let p = rightPresence[signature(s.labels, m)]
            var y = s
            for k in 0..<steps where y.present[k] {
                let matched = p?[k] ?? false
                if matched == unless { y.present[k] = false }
            }
            if !y.isEmpty { out.append(y) }
        }
        return out
    }

    func setOr(_ a: [StepSeries], _ b: [StepSeries], _ m: VectorMatching) throws(QueryError) -> [StepSeries] {
        let leftPresence = presenceBySignature(a, m)
        var out = a
        for s in b {
            let p = leftPresence[signature(s.labels, m)]
            var y = s
            for k in 0..<steps where y.present[k] && (p?[k] ?? false) { y.present[k] = false }
            if !y.isEmpty { out.append(y) }
        }
        return try mergeSameLabels(out)
    }

    /// Arithmetic and comparisons between two vectors: one-to-one, or many-to-one /
    /// one-to-many with `group_left` / `group_right`, checked step by step as Prometheus does.
    func vectorVector(_ op: BinaryOp, _ lhs: [StepSeries], _ rhs: [StepSeries], _ m: VectorMatching,
                      returnBool: Bool) throws(QueryError) -> [StepSeries] {
        let swapped = m.cardinality == .oneToMany
        let many = swapped ? rhs : lhs, one = swapped ? lhs : rhs
        // The "one" side grouped by signature.
        var groups: [Labels: [Int]] = [:]
        for (j, s) in one.enumerated() { groups[signature(s.labels, m), default: []].append(j) }
        let manyGroups = many.map { groups[signature($0.labels, m)] }
        var out: [StepSeries] = []
        var outIndex: [Labels: Int] = [:]
        var pairTarget: [Int: [Int: Int]] = [:]     // many index -> one index -> output index
        var usedAtStep: [Labels: Int] = [:]          // one-to-one: signature matched at this step
        for k in 0..<steps {
            // The "one" side must be unique per signature at every step.
            for (sig, members) in groups where members.count > 1 {
                let present = members.filter { one[$0].present[k] }
                if present.count > 1 {
                    let side = swapped ? "left" : "right"
                    throw .execution("found duplicate series for the match group \(sig) on the \(side) hand-side of the operation: [\(one[present[0]].labels), \(one[present[1]].labels)];many-to-many matching not allowed: matching labels must be unique on one side")
                }
            }
            for (i, s) in many.enumerated() where s.present[k] {
                guard let members = manyGroups[i], let j = members.first(where: { one[$0].present[k] }) else { continue }
                let (lv, rv) = swapped ? (one[j].values[k], s.values[k]) : (s.values[k], one[j].values[k])
                var (v, keep) = elementOp(op, lv, rv)
                if returnBool { v = keep ? 1 : 0 } else if !keep { continue }
                let target: Int
                if let t = pairTarget[i]?[j] {
                    target = t
                } else {
                    var labels = resultLabels(many: s.labels, one: one[j].labels, op, m)
                    if returnBool { labels = labels.droppingMetricName }
                    if let t = outIndex[labels] { target = t } else {
                        target = out.count
                        outIndex[labels] = target
                        out.append(StepSeries(labels: labels, steps: steps))
                    }
                    pairTarget[i, default: [:]][j] = target
                }
                if m.cardinality == .oneToOne {
                    let sig = signature(s.labels, m)
                    if usedAtStep[sig] == k {
                        throw .execution("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)")
                    }
                    usedAtStep[sig] = k
                } else if out[target].present[k] {
                    throw .execution("multiple matches for labels: grouping labels must ensure unique matches")
                }
                out[target].set(k, v)
            }
        }
        return out.filter { !$0.isEmpty }
    }

    /// Labels of a matched pair: the "many" side's, without the metric name for arithmetic,
    /// restricted by on/ignoring for one-to-one, plus `group_x` labels from the "one" side.
    func resultLabels(many: Labels, one: Labels, _ op: BinaryOp, _ m: VectorMatching) -> Labels {
        var pairs = many.pairs
        if dropsName(op) { pairs.removeAll { $0.name == Labels.metricName } }
        if m.cardinality == .oneToOne {
            let set = Set(m.labels)
            pairs.removeAll { m.on ? !set.contains($0.name) : set.contains($0.name) }
        }
        var labels = Labels(sorted: pairs)
        for name in m.include { labels = labels.setting(name, to: one[name] ?? "") }
        return labels
    }
}
