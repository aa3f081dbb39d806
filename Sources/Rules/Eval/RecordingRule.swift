import PromQL
import Storage

/// Why one evaluation of a rule failed (shown by the rules API and counted).
public struct RuleEvaluationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension QueryValue {
    /// A rule's result as a vector: a scalar is one sample without labels (as Prometheus'
    /// rule query function makes it); anything else is an error.
    func ruleVector() throws(RuleEvaluationError) -> [InstantSample] {
        switch self {
        case .vector(let v): v
        case .scalar(let t, let v): [InstantSample(labels: .empty, t: t, v: v)]
        default: throw RuleEvaluationError("rule result is not a vector or scalar")
        }
    }
}

/// A recording rule's evaluation: the expression's result at `t` under the rule's metric name
/// and labels, as Prometheus computes it.
enum RecordingEvaluation {
    static func samples(of value: QueryValue, name: String, labels: [(name: String, value: String)],
                        limit: Int) throws(RuleEvaluationError) -> [(labels: Labels, v: Double)] {
        let vector = try value.ruleVector()
        var out: [(labels: Labels, v: Double)] = [], seen = Set<Labels>()
        out.reserveCapacity(vector.count)
        for s in vector {
            var l = s.labels.setting(Labels.metricName, to: name)
            for extra in labels { l = l.setting(extra.name, to: extra.value) }
            guard seen.insert(l).inserted else {
                throw RuleEvaluationError("vector contains metrics with the same labelset after applying rule labels")
            }
            out.append((l, s.v))
        }
        if limit > 0 && out.count > limit {
            throw RuleEvaluationError("exceeded limit of \(limit) with \(out.count) series")
        }
        return out
    }
}
