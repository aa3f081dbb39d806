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
    /// When it was last sent to Alertmanager, and until when that notification holds.
    public var lastSentAt: Int64?
    public var validUntil: Int64?
}

/// An alerting rule's alerts and their state changes, evaluation after evaluation, as
/// Prometheus' alerting rules keep them: a new series starts pending and fires once it has
/// been active for `for`; a pending alert whose series is gone is forgotten, a firing one
/// resolves (or keeps firing for `keep_firing_for`) and is kept 15 minutes as resolved.
struct AlertTracker: Sendable {
    /// How long a resolved alert is kept (and sent as resolved).
    static let resolvedRetention: Int64 = 15 * 60_000

    var active: [Labels: Alert] = [:]
    /// False from startup until `for` state was restored: until then no `ALERTS` or
    /// `ALERTS_FOR_STATE` samples are written (the alerts are still tracked).
    var restored = true

    /// Updates the alerts from the rule's result at `t`; returns the `ALERTS` and
    /// `ALERTS_FOR_STATE` samples of the pending and firing ones.
    mutating func evaluate(_ value: QueryValue, rule: Rule, at t: Int64, limit: Int,
                           context: AlertContext = AlertContext(),
                           environment: TemplateEnvironment = TemplateEnvironment()) throws(RuleEvaluationError) -> [(labels: Labels, v: Double)] {
        let vector = try value.ruleVector()
        var current: [Labels: Alert] = [:]
        for s in vector {
            let (l, annotations) = Self.alertLabels(of: s, rule: rule, context: context, environment: environment)
            guard current[l] == nil else {
                throw RuleEvaluationError("vector contains metrics with the same labelset after applying alert labels")
            }
            current[l] = Alert(labels: l, annotations: annotations, state: .pending, value: s.v, activeAt: t)
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
            guard restored else { continue }
            out.append((l.setting(Labels.metricName, to: "ALERTS").setting("alertstate", to: a.state.rawValue), 1))
            out.append((l.setting(Labels.metricName, to: "ALERTS_FOR_STATE"), Double(a.activeAt / 1000)))
        }
        if limit > 0 && counted > limit {
            active = [:]
            throw RuleEvaluationError("exceeded limit of \(limit) with \(counted) alerts")
        }
        return out
    }

    /// An alert's labels (the sample's without its name, the rule's expanded on top, a label
    /// that expands to nothing removed, `alertname`) and its expanded annotations.
    static func alertLabels(of s: InstantSample, rule: Rule, context: AlertContext,
                            environment: TemplateEnvironment) -> (Labels, [(name: String, value: String)]) {
        func expand(_ templates: [AlertTemplate], _ i: Int, _ raw: String) -> String {
            guard i < templates.count else { return raw }
            return templates[i].expand(labels: s.labels, value: s.v, externalLabels: context.externalLabels,
                                       externalURL: context.externalURL, in: environment)
        }
        var l = s.labels.removing([Labels.metricName])
        for (i, extra) in rule.labels.enumerated() {
            let v = expand(rule.labelTemplates, i, extra.value)
            l = v.isEmpty ? l.removing([extra.name]) : l.setting(extra.name, to: v)
        }
        l = l.setting("alertname", to: rule.name)
        let annotations = rule.annotations.enumerated().map { ($0.element.name, expand(rule.annotationTemplates, $0.offset, $0.element.value)) }
        return (l, annotations)
    }

    /// Sets each active alert's `activeAt` from the last `ALERTS_FOR_STATE` sample written
    /// before a restart (found within `outageTolerance` of `t`), as Prometheus restores it: an
    /// alert that had been pending for part of `for` goes on from there, the outage not
    /// counted; one that fired before fires again at once; one that would fire within
    /// `gracePeriod` of the restart waits that long. Rules with a `for` below the grace period
    /// are not restored. Afterwards the rule writes its `ALERTS` series.
    mutating func restore(at t: Int64, rule: Rule, from storage: any Queryable,
                          outageTolerance: Int64, gracePeriod: Int64) {
        defer { restored = true }
        guard rule.forDuration >= gracePeriod else { return }
        let (from, underflow) = t.subtractingReportingOverflow(outageTolerance)
        let querier = storage.querier(mint: underflow ? .min : from, maxt: t)
        for (l, var a) in active where a.state != .inactive {
            let series = l.setting(Labels.metricName, to: "ALERTS_FOR_STATE")
            guard let (last, v) = Self.lastSample(of: series, in: querier), !isStaleMarker(v),
                  v.isFinite, let activeSeconds = Int64(exactly: v.rounded(.towardZero)),
                  activeSeconds > Int64.min / 1000, activeSeconds < Int64.max / 1000 else { continue }
            let downAt = (last / 1000) * 1000, restoredActiveAt = activeSeconds * 1000
            let remaining = rule.forDuration &- (downAt &- restoredActiveAt)
            if remaining <= 0 {
                a.activeAt = restoredActiveAt
            } else if remaining < gracePeriod {
                a.activeAt = t &+ gracePeriod &- rule.forDuration
            } else {
                a.activeAt = restoredActiveAt &+ (t &- downAt)
            }
            active[l] = a
        }
    }

    /// The last sample of exactly the series `labels` in the querier's range.
    private static func lastSample(of labels: Labels, in querier: any Querier) -> (Int64, Double)? {
        var set = querier.select(labels.map { LabelMatcher.equal($0.name, $0.value) }, hints: nil)
        var found: (Int64, Double)?
        while set.next() {
            let series = set.at()
            guard series.labels == labels else { continue }
            var it = series.makeIterator()
            while it.next() { found = it.at() }
        }
        return found
    }
}
