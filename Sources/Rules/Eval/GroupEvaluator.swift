import PromQL
import Storage

/// What one rule's last evaluation left, for the rules API and self-metrics.
public struct RuleHealth: Sendable {
    public enum Status: String, Sendable { case unknown, ok, err }
    public var status: Status = .unknown
    public var lastError: String?
    /// Milliseconds of the last evaluation's time.
    public var lastEvaluation: Int64?
    public var lastDuration: Duration = .zero
}

/// Evaluates one rule group at a time: its rules in order, each rule's samples committed
/// before the next rule runs (so later rules see what earlier ones recorded at the same
/// time), series a rule stopped producing marked stale, and each alerting rule's alerts
/// carried from one evaluation to the next.
public struct GroupEvaluator: Sendable {
    public let group: RuleGroup
    private var outputs: [RuleOutput]
    private var trackers: [AlertTracker?]
    public private(set) var health: [RuleHealth]
    /// Samples the store refused over all evaluations (out of order, out of bounds).
    public private(set) var refusedSamples = 0
    /// Rule evaluations so far, and those that failed.
    public private(set) var evaluations = 0
    public private(set) var failures = 0
    /// Group evaluations so far, and how long the last one took.
    public private(set) var iterations = 0
    public private(set) var lastGroupDuration: Duration = .zero
    /// Set once a reload replaced the group: it evaluates no more.
    public var retired = false
    /// Alerts to send, collected by `evaluate` with a send policy.
    public private(set) var outbox: [AlertNotification] = []

    /// The alerts collected for sending since the last call.
    public mutating func takeOutbox() -> [AlertNotification] {
        defer { outbox = [] }
        return outbox
    }

    /// `restoring`: the group starts with the server, so its alerts' `for` state is to be
    /// restored (`restoreForState`) and no `ALERTS` series are written until then.
    public init(group: RuleGroup, restoring: Bool = false) {
        self.group = group
        outputs = Array(repeating: RuleOutput(), count: group.rules.count)
        trackers = group.rules.map { rule -> AlertTracker? in
            guard case .alerting = rule.kind else { return nil }
            var tracker = AlertTracker()
            tracker.restored = !restoring
            return tracker
        }
        health = Array(repeating: RuleHealth(), count: group.rules.count)
    }

    /// Whether every alerting rule has had its `for` state restored.
    public var isRestored: Bool { trackers.allSatisfy { $0?.restored ?? true } }

    /// Restores the `for` state of every alerting rule's alerts from the `ALERTS_FOR_STATE`
    /// series in `storage` (see `AlertTracker.restore`).
    public mutating func restoreForState(at t: Int64, from storage: any Queryable, outageTolerance: Int64, gracePeriod: Int64) {
        for i in trackers.indices where trackers[i] != nil {
            trackers[i]?.restore(at: t, rule: group.rules[i], from: storage,
                                 outageTolerance: outageTolerance, gracePeriod: gracePeriod)
        }
    }

    /// The alerts of rule `index` (empty for a recording rule).
    public func alerts(of index: Int) -> [Alert] {
        trackers[index].map { Array($0.active.values) } ?? []
    }

    /// Evaluates every rule at `t` (milliseconds) against `storage`, writing to `store`.
    /// With `sending`, alerts due to be notified are collected in `outbox` (see `takeOutbox`).
    public mutating func evaluate(at t: Int64, engine: Engine, storage: any Queryable, store: any Appendable,
                                  context: AlertContext = AlertContext(), sending: SendPolicy? = nil) {
        let environment = TemplateEnvironment(externalURL: context.urlFunctions ? context.externalURL : nil) { expr in
            try Self.templateQuery(expr, at: t, engine: engine, storage: storage)
        }
        let groupStarted = ContinuousClock.now
        defer {
            iterations += 1
            lastGroupDuration = groupStarted.duration(to: .now)
        }
        for (i, rule) in group.rules.enumerated() {
            let started = ContinuousClock.now
            evaluations += 1
            defer {
                health[i].lastEvaluation = t
                health[i].lastDuration = started.duration(to: .now)
            }
            let samples: [(labels: Labels, v: Double)]
            do {
                let value = try engine.instantQuery(rule.parsed, at: t, on: storage)
                switch rule.kind {
                case .recording(let name):
                    samples = try RecordingEvaluation.samples(of: value, name: name, labels: rule.labels, limit: group.limit)
                case .alerting:
                    samples = try trackers[i]?.evaluate(value, rule: rule, at: t, limit: group.limit,
                                                        context: context, environment: environment) ?? []
                }
            } catch let e as QueryError {
                fail(i, e.description)
                continue
            } catch let e as RuleEvaluationError {
                fail(i, e.description)
                continue
            } catch {
                fail(i, "\(error)")
                continue
            }
            let app = store.makeAppender()
            let written = outputs[i].write(samples, at: t, to: app)
            refusedSamples += written.refused
            do {
                try app.commit()
                // As Prometheus: a sample the store refused (a duplicate with another value,
                // out of order) is the rule's last error, though the evaluation did not fail.
                health[i].status = written.error == nil ? .ok : .err
                health[i].lastError = written.error?.description
            } catch {
                fail(i, "writing the rule's samples: \(error)")
            }
            if let sending, trackers[i] != nil {
                let link = (context.externalURL ?? "") + "/graph?g0.expr=" + TemplateFunctions.queryEscape(rule.expr) + "&g0.tab=1"
                outbox += trackers[i]?.notifications(at: t, policy: sending, generatorURL: link) ?? []
            }
        }
    }

    /// `query "expr"` in a template: an instant query at the evaluation's time, its samples
    /// with `Labels` (the metric name included) and `Value`.
    static func templateQuery(_ expr: String, at t: Int64, engine: Engine,
                              storage: any Queryable) throws -> [TemplateValue] {
        let vector = try engine.instantQuery(expr, at: t, on: storage).ruleVector()
        return vector.map { s in .sample(labels: s.labels.map { ($0.name, $0.value) }, value: s.v) }
    }

    /// Stale markers at `t` for every series the group's rules wrote last (the group was
    /// removed, or replaced by a reload: then only those of rules the new group did not take
    /// over, see `takeOver`).
    public mutating func retire(at t: Int64, store: any Appendable) {
        let app = store.makeAppender()
        for i in outputs.indices { outputs[i].retire(at: t, to: app) }
        try? app.commit()
    }

    /// Takes over the state of `old`, the same group before a reload changed it, as
    /// Prometheus does: each rule with the same kind, name and labels as one of `old`'s (in
    /// order) keeps that rule's alerts and the series it wrote last, so its alerts resolve and
    /// its series go stale as they would have. What was taken over is cleared in `old`.
    public mutating func takeOver(from old: inout GroupEvaluator) {
        func key(_ r: Rule) -> String { "\(r.kind)\u{0}" + r.labels.map { "\($0.name)=\($0.value)" }.sorted().joined(separator: "\u{0}") }
        var unmatched = Dictionary(grouping: old.group.rules.indices, by: { key(old.group.rules[$0]) })
        for (i, rule) in group.rules.enumerated() {
            guard let j = unmatched[key(rule)]?.first else { continue }
            unmatched[key(rule)]?.removeFirst()
            outputs[i] = old.outputs[j]
            old.outputs[j] = RuleOutput()
            if let tracker = old.trackers[j], var mine = trackers[i] {
                mine.active = tracker.active
                mine.restored = mine.restored || tracker.restored
                trackers[i] = mine
            }
        }
    }

    private mutating func fail(_ i: Int, _ message: String) {
        failures += 1
        health[i].status = .err
        health[i].lastError = message
    }
}
