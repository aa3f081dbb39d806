import Foundation
import Logging
import PromQL
import Storage

/// Runs the rule groups of the configuration's `rule_files`, each on its own schedule: every
/// `interval` (the group's, else `global.evaluation_interval`), at a fixed offset within the
/// interval derived from the group's file and name (so groups spread out and a restart keeps
/// the phase), evaluated at the scheduled time as Prometheus does.
public final class RuleManager: Sendable {
    /// A group and the task that evaluates it.
    final class Running: Sendable {
        let key: String
        let file: String
        let interval: Int64
        let identity: String
        let evaluator: Locked<GroupEvaluator>
        let task = Locked<Task<Void, Never>?>(nil)
        var isStarted: Bool { task.withLock { $0 != nil } }

        init(file: String, group: RuleGroup, interval: Int64, restoring: Bool) {
            self.file = file
            key = file + "\u{0}" + group.name
            self.interval = interval
            identity = group.identity + "\u{0}\(interval)"
            evaluator = Locked(GroupEvaluator(group: group, restoring: restoring))
        }
    }

    let store: any Appendable
    let storage: any Queryable
    let engine: Engine
    let options: RuleOptions
    let logger: Logger
    /// Whether groups were loaded once: only the first load's groups restore `for` state.
    let loadedOnce = Locked(false)
    let running = Locked<[Running]>([])
    let updating = Locked(0)
    /// External labels and URL for alert templates, from the configuration.
    let context = Locked(AlertContext())

    /// Receives the alerts each evaluation has to send (to the notifier).
    let notify: @Sendable ([AlertNotification]) -> Void

    public init(store: any Appendable, storage: any Queryable, engine: Engine = Engine(),
                options: RuleOptions = RuleOptions(), logger: Logger,
                notify: @escaping @Sendable ([AlertNotification]) -> Void = { _ in }) {
        self.store = store
        self.storage = storage
        self.engine = engine
        self.options = options
        self.logger = logger
        self.notify = notify
    }

    /// Reads `files` and runs their groups instead of the current ones. Every file is read
    /// before anything changes: one bad file refuses the update and the running groups stay.
    /// A group that is unchanged (same file, name, interval and rules) keeps running with its
    /// state; a changed group takes over the alerts and series of its rules that stayed (by
    /// kind, name and labels); the series of removed groups and rules get stale markers.
    /// Updates run one at a time (a SIGHUP and a `POST /-/reload` may meet).
    public func update(files: [String], evaluationInterval: Int64,
                       context: AlertContext = AlertContext()) throws(RuleFileError) {
        try updating.withLock { (_: inout Int) throws(RuleFileError) in
            try replaceGroups(files: files, evaluationInterval: evaluationInterval, context: context)
        }
    }

    private func replaceGroups(files: [String], evaluationInterval: Int64, context: AlertContext) throws(RuleFileError) {
        var loaded: [(String, RuleGroup)] = []
        for file in files {
            for group in try RuleFile.load(file).groups { loaded.append((file, group)) }
        }
        let restoring = loadedOnce.withLock { first in defer { first = true }; return !first }
        let fresh = loaded.map {
            Running(file: $0.0, group: $0.1, interval: $0.1.interval ?? evaluationInterval, restoring: restoring)
        }
        let (old, next) = running.withLock { r -> ([Running], [Running]) in
            let previous = Dictionary(r.map { ($0.identity + "\u{2}" + $0.key, $0) }, uniquingKeysWith: { a, _ in a })
            let next = fresh.map { previous[$0.identity + "\u{2}" + $0.key] ?? $0 }
            defer { r = next }
            return (r, next)
        }
        self.context.withLock { $0 = context }
        let kept = Set(next.map(ObjectIdentifier.init))
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        let replacing = Dictionary(next.filter { !$0.isStarted }.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for group in old where !kept.contains(ObjectIdentifier(group)) {
            group.task.withLock { $0?.cancel() }
            let store = self.store
            group.evaluator.withLock { previous in
                previous.retired = true
                if let successor = replacing[group.key] {
                    successor.evaluator.withLock { $0.takeOver(from: &previous) }
                }
                previous.retire(at: now, store: store)
            }
        }
        for group in next where group.task.withLock({ $0 == nil }) {
            let task = Task.detached { [weak self] in
                guard let self else { return }
                await self.loop(group)
            }
            group.task.withLock { $0 = task }
        }
        if !next.isEmpty { logger.info("rules: \(next.count) groups from \(files.count) files") }
    }

    /// Stops every group (their last series are left to go stale by the lookback).
    public func stop() async {
        let groups = running.withLock { r in defer { r = [] }; return r }
        for group in groups {
            let task = group.task.withLock { $0 }
            task?.cancel()
            await task?.value
        }
    }

    /// The groups in force, each with its rules' health and alerts, for the API.
    public func snapshot() -> [(file: String, interval: Int64, evaluator: GroupEvaluator)] {
        running.withLock { $0 }.map { g in (g.file, g.interval, g.evaluator.withLock { $0 }) }
    }

    /// Self-metrics in the text format, as Prometheus' `prometheus_rule_*` with the prefix
    /// `sextant_` (`rule_group` is `file;name`).
    public func renderMetrics() -> String {
        let groups = snapshot()
        guard !groups.isEmpty else { return "" }
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ value: (GroupEvaluator, Int64) -> String) {
            out += "# HELP sextant_\(name) \(help)\n# TYPE sextant_\(name) \(type)\n"
            for g in groups {
                let label = quoteLabelValue(g.file + ";" + g.evaluator.group.name)
                out += "sextant_\(name){rule_group=\(label)} \(value(g.evaluator, g.interval))\n"
            }
        }
        func seconds(_ d: Duration) -> String { "\(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)" }
        family("rule_evaluations_total", "counter", "Rule evaluations.") { e, _ in "\(e.evaluations)" }
        family("rule_evaluation_failures_total", "counter", "Rule evaluations that failed.") { e, _ in "\(e.failures)" }
        family("rule_group_iterations_total", "counter", "Group evaluations.") { e, _ in "\(e.iterations)" }
        family("rule_group_last_duration_seconds", "gauge", "How long the last evaluation of the group took.") { e, _ in seconds(e.lastGroupDuration) }
        family("rule_group_interval_seconds", "gauge", "The group's evaluation interval.") { _, i in "\(Double(i) / 1000)" }
        family("rule_group_rules", "gauge", "Rules in the group.") { e, _ in "\(e.group.rules.count)" }
        return out
    }

    /// The time of the next evaluation after `now`: `offset` past a multiple of `interval`.
    /// Nil only where that time does not fit in 64 bits.
    static func nextEvaluation(after now: Int64, interval: Int64, offset: Int64) -> Int64? {
        guard interval > 0 else { return nil }
        let (shifted, o1) = now.subtractingReportingOverflow(offset)
        guard !o1 else { return nil }
        let phase = ((shifted % interval) + interval) % interval
        let (base, o2) = (shifted - phase).addingReportingOverflow(offset)
        guard !o2 else { return nil }
        if base > now { return base }
        let (later, o3) = base.addingReportingOverflow(interval)
        return o3 ? nil : later
    }

    func loop(_ group: Running) async {
        let offset = Int64(Labels([Label("g", group.key)]).stableHash % UInt64(group.interval))
        var evaluated = 0
        while !Task.isCancelled {
            // As Prometheus: two evaluations after startup fill the alerts, then their `for`
            // state is restored from before the restart.
            if evaluated == 2 { restore(group) }
            evaluated += 1
            let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
            guard let at = Self.nextEvaluation(after: now, interval: group.interval, offset: offset) else { return }
            try? await Task.sleep(for: .milliseconds(at - now))
            if Task.isCancelled { return }
            let (engine, storage, store, context) = (self.engine, self.storage, self.store, self.context.withLock { $0 })
            // Checked under the lock: a group a reload retired writes nothing after its stale markers.
            let policy = SendPolicy(resendDelay: options.resendDelay, interval: group.interval)
            let outbox = group.evaluator.withLock { e -> [AlertNotification] in
                guard !e.retired else { return [] }
                e.evaluate(at: at, engine: engine, storage: storage, store: store, context: context, sending: policy)
                return e.takeOutbox()
            }
            if !outbox.isEmpty { notify(outbox) }
        }
    }

    private func restore(_ group: Running) {
        let (storage, options) = (self.storage, self.options)
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        group.evaluator.withLock {
            guard !$0.isRestored else { return }
            $0.restoreForState(at: now, from: storage, outageTolerance: options.outageTolerance, gracePeriod: options.gracePeriod)
        }
    }
}

/// How alerting rules behave around restarts and notifications (Prometheus' `--rules.alert.*`).
public struct RuleOptions: Sendable {
    /// The longest outage after which alerts' `for` state is still restored (milliseconds).
    public var outageTolerance: Int64 = 3_600_000
    /// The least time between a restart and an alert with a long `for` firing (milliseconds).
    public var gracePeriod: Int64 = 600_000
    /// The least time between two notifications of the same alert (milliseconds).
    public var resendDelay: Int64 = 60_000

    public init() {}
}
