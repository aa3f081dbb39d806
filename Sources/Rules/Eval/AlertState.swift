import PromQL
import Storage

/// One alert of an alerting rule: a series of the rule's result, with its state.
public struct Alert: Sendable {
    public enum State: String, Sendable, Comparable {
        case inactive, pending, firing

        public static func < (a: State, b: State) -> Bool {
            let order: [State] = [.inactive, .pending, .firing]
            return (order.firstIndex(of: a) ?? 0) < (order.firstIndex(of: b) ?? 0)
        }
    }

    public var labels: Labels
    public var annotations: [(name: String, value: String)]
    public var state: State
    public var value: Double
    /// Milliseconds: when the condition was first met (what `for` counts from).
    public var activeAt: Int64
    public var firedAt: Int64?
    public var resolvedAt: Int64?
    /// While `keep_firing_for` holds a firing alert whose condition is gone: since when.
    public var keepFiringSince: Int64?
}

/// An alerting rule's alerts and their state changes, evaluation after evaluation, as
/// Prometheus' alerting rules keep them: a new series starts pending and fires once it has
/// been active for `for`; a pending alert whose series is gone is forgotten, a firing one
/// resolves (or keeps firing for `keep_firing_for`) and is kept 15 minutes as resolved.
struct AlertTracker: Sendable {
    /// How long a resolved alert is kept (and sent as resolved).
    static let resolvedRetention: Int64 = 15 * 60_000

    private(set) var active: [Labels: Alert] = [:]

    /// Updates the alerts from the rule's result at `t`; returns the `ALERTS` and
    /// `ALERTS_FOR_STATE` samples of the pending and firing ones.
    mutating func evaluate(_ value: QueryValue, rule: Rule, at t: Int64,
                           limit: Int) throws(RuleEvaluationError) -> [(labels: Labels, v: Double)] {
        let vector = try value.ruleVector()
        var current: [Labels: Alert] = [:]
        for s in vector {
            var l = s.labels.removing([Labels.metricName])
            for extra in rule.labels { l = l.setting(extra.name, to: extra.value) }
            l = l.setting("alertname", to: rule.name)
            guard current[l] == nil else {
                throw RuleEvaluationError("vector contains metrics with the same labelset after applying alert labels")
            }
            current[l] = Alert(labels: l, annotations: rule.annotations, state: .pending, value: s.v, activeAt: t)
        }
        for (l, a) in current {
            if var existing = active[l], existing.state != .inactive {
                existing.value = a.value
                existing.annotations = a.annotations
                active[l] = existing
            } else {
                active[l] = a
            }
        }
        var out: [(labels: Labels, v: Double)] = [], counted = 0
        for (l, var a) in active {
            if current[l] == nil {
                var keepFiring = false
                if a.state == .firing && rule.keepFiringFor > 0 {
                    let since = a.keepFiringSince ?? t
                    a.keepFiringSince = since
                    keepFiring = t - since < rule.keepFiringFor
                }
                if a.state == .pending || (a.resolvedAt.map { t - $0 > Self.resolvedRetention } ?? false) {
                    active[l] = nil
                    continue
                }
                if !keepFiring {
                    if a.state != .inactive {
                        a.state = .inactive
                        a.resolvedAt = t
                    }
                    active[l] = a
                    continue
                }
            } else {
                a.keepFiringSince = nil
            }
            counted += 1
            if a.state == .pending && t - a.activeAt >= rule.forDuration {
                a.state = .firing
                a.firedAt = t
            }
            active[l] = a
            out.append((l.setting(Labels.metricName, to: "ALERTS").setting("alertstate", to: a.state.rawValue), 1))
            out.append((l.setting(Labels.metricName, to: "ALERTS_FOR_STATE"), Double(a.activeAt / 1000)))
        }
        if limit > 0 && counted > limit {
            active = [:]
            throw RuleEvaluationError("exceeded limit of \(limit) with \(counted) alerts")
        }
        return out
    }
}
