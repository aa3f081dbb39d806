import PromQL
@testable import Rules
import Storage
import Testing
import TSDB

/// Rule groups evaluated over a head as Prometheus evaluates them: rules in order seeing
/// earlier results of the same evaluation, stale markers for series that go, and alerts that
/// go pending, fire after `for`, resolve and keep firing for `keep_firing_for`.
@Suite struct GroupEvaluatorTests {
    static let rules = """
        groups:
          - name: g
            rules:
              - record: job:up:sum
                expr: sum by (job) (up)
              - record: job:up:double
                expr: job:up:sum * 2
              - alert: InstanceDown
                expr: up == 0
                for: 30s
                labels: {severity: page}
              - alert: Flapping
                expr: up == 0
                keep_firing_for: 20s
        """

    func raw(_ head: Head, _ selector: String, at t: Int64) throws -> [Labels: Double] {
        let value = try Engine().instantQuery(selector, at: t, on: head)
        guard case .vector(let v) = value else { return [:] }
        return Dictionary(uniqueKeysWithValues: v.map { ($0.labels, $0.v) })
    }

    /// Values of `name` stored at exactly `t`, stale markers included, by series.
    func stored(_ head: Head, _ name: String, at t: Int64) throws -> [Labels: Double] {
        var out: [Labels: Double] = [:]
        var set = head.querier(mint: t, maxt: t).select([.equal("__name__", name)], hints: nil)
        while set.next() {
            var it = set.at().makeIterator()
            while it.next() {
                let (st, v) = it.at()
                if st == t { out[set.at().labels] = v }
            }
        }
        return out
    }

    @Test func recordsAlertsAndMarksStale() throws {
        let head = Head(options: HeadOptions(chunkSize: 16, stripeCount: 8))
        let file = try RuleFile.parse(Self.rules, path: "r.yml")
        var group = GroupEvaluator(group: file.groups[0])
        let engine = Engine()
        let a = Labels(["__name__": "up", "job": "api", "instance": "a"])
        let b = Labels(["__name__": "up", "job": "api", "instance": "b"])
        // b is down from 15 s to 60 s; a stops at 90 s.
        func scrape(_ t: Int64) throws {
            let app = head.appender()
            if t < 90_000 { try app.append(a, t, 1) }
            try app.append(b, t, t >= 15_000 && t <= 60_000 ? 0 : 1)
            try app.commit()
        }
        var states: [Int64: [String: String]] = [:]
        for t in stride(from: Int64(0), through: 120_000, by: 15_000) {
            try scrape(t)
            group.evaluate(at: t, engine: engine, storage: head, store: head)
            #expect(group.health.allSatisfy { $0.status == .ok }, "\(group.health)")
            var s: [String: String] = [:]
            for i in [2, 3] {
                for alert in group.alerts(of: i) { s[group.group.rules[i].name] = alert.state.rawValue }
            }
            states[t] = s
        }
        // The second rule saw the first's result of the same evaluation.
        #expect(try stored(head, "job:up:sum", at: 30_000).values.first == 1)
        #expect(try stored(head, "job:up:double", at: 30_000).values.first == 2)
        // InstanceDown: pending at 15 and 30 s, firing from 45 s (30 s after it became active),
        // resolved at 75 s; Flapping fires at once and keeps firing 20 s after the condition ends.
        #expect(states[15_000]?["InstanceDown"] == "pending" && states[30_000]?["InstanceDown"] == "pending")
        #expect(states[45_000]?["InstanceDown"] == "firing" && states[60_000]?["InstanceDown"] == "firing")
        #expect(states[75_000]?["InstanceDown"] == "inactive")
        #expect(states[15_000]?["Flapping"] == "firing" && states[75_000]?["Flapping"] == "firing")
        #expect(states[90_000]?["Flapping"] == "firing" && states[105_000]?["Flapping"] == "inactive")
        // ALERTS and ALERTS_FOR_STATE as Prometheus writes them; stale once resolved.
        let firing = try stored(head, "ALERTS", at: 45_000)
        let down = Labels(["__name__": "ALERTS", "alertname": "InstanceDown", "alertstate": "firing", "job": "api",
                           "instance": "b", "severity": "page"])
        #expect(firing[down] == 1)
        let forState = try stored(head, "ALERTS_FOR_STATE", at: 45_000)
        #expect(forState[Labels(["__name__": "ALERTS_FOR_STATE", "alertname": "InstanceDown", "job": "api", "instance": "b",
                                 "severity": "page"])] == 15)
        #expect(try stored(head, "ALERTS", at: 75_000)[down].map(isStaleMarker) == true)
        // The pending ALERTS series went stale when the alert fired.
        let pending = down.setting("alertstate", to: "pending")
        #expect(try stored(head, "ALERTS", at: 45_000)[pending].map(isStaleMarker) == true)
        #expect(try raw(head, "ALERTS", at: 30_000)[pending] == 1)
    }

    @Test func reportsRuleErrorsAndKeepsGoing() throws {
        let head = Head(options: HeadOptions(chunkSize: 16, stripeCount: 8))
        let file = try RuleFile.parse("""
            groups:
              - name: g
                limit: 1
                rules:
                  - record: flat
                    expr: up
                    labels: {instance: same}
                  - record: many
                    expr: up
                  - record: fine
                    expr: count(up)
            """, path: "r.yml")
        let app = head.appender()
        for i in 0..<3 { try app.append(Labels(["__name__": "up", "instance": "\(i)"]), 1000, 1) }
        try app.commit()
        var group = GroupEvaluator(group: file.groups[0])
        group.evaluate(at: 1000, engine: Engine(), storage: head, store: head)
        #expect(group.health.map(\.status) == [.err, .err, .ok])
        #expect(group.health[0].lastError?.contains("same labelset") == true)
        #expect(group.health[1].lastError == "exceeded limit of 1 with 3 series")
        #expect(try stored(head, "fine", at: 1000).values.first == 3)
    }

    /// After a restart, alerts take their `for` state from `ALERTS_FOR_STATE` as Prometheus
    /// restores it: no `ALERTS` series for the two evaluations before the restore, the
    /// outage not counted as pending time, a grace period before long alerts fire, firing
    /// alerts firing again at once, and short `for` rules starting over.
    @Test func restoresForStateAfterARestart() throws {
        let head = Head(options: HeadOptions(chunkSize: 16, stripeCount: 8))
        let file = try RuleFile.parse("""
            groups:
              - name: g
                rules:
                  - {alert: Long, expr: up == 0, for: 40m}
                  - {alert: Mid, expr: up == 0, for: 22m}
                  - {alert: Fired, expr: up == 0, for: 15m}
                  - {alert: Short, expr: up == 0, for: 1m}
            """, path: "r.yml")
        let minute: Int64 = 60_000
        func evaluate(_ group: inout GroupEvaluator, _ minutes: ClosedRange<Int64>) throws -> [Int64: [String: Alert.State]] {
            var states: [Int64: [String: Alert.State]] = [:]
            for m in minutes {
                let app = head.appender()
                try app.append(Labels(["__name__": "up", "instance": "b"]), m * minute, 0)
                try app.commit()
                group.evaluate(at: m * minute, engine: Engine(), storage: head, store: head)
                for (i, rule) in group.group.rules.enumerated() { states[m, default: [:]][rule.name] = group.alerts(of: i).first?.state }
            }
            return states
        }
        var before = GroupEvaluator(group: file.groups[0])
        let first = try evaluate(&before, 0...20)
        #expect(first[20] == ["Long": .pending, "Mid": .pending, "Fired": .firing, "Short": .firing])
        // Down from 20 to 30 minutes; two evaluations, then the restore at 31 minutes.
        var after = GroupEvaluator(group: file.groups[0], restoring: true)
        _ = try evaluate(&after, 30...31)
        #expect(try stored(head, "ALERTS", at: 31 * minute).isEmpty && !after.isRestored)
        after.restoreForState(at: 31 * minute, from: head, outageTolerance: 60 * minute, gracePeriod: 10 * minute)
        #expect(after.isRestored)
        let states = try evaluate(&after, 32...52)
        #expect(states[32]?["Fired"] == .firing && states[32]?["Short"] == .firing)
        #expect(states[40]?["Mid"] == .pending && states[41]?["Mid"] == .firing)
        #expect(states[50]?["Long"] == .pending && states[51]?["Long"] == .firing)
        let forState = try stored(head, "ALERTS_FOR_STATE", at: 32 * minute)
        func activeAt(_ name: String) -> Double? {
            forState[Labels(["__name__": "ALERTS_FOR_STATE", "alertname": name, "instance": "b"])]
        }
        #expect(activeAt("Long") == 11 * 60 && activeAt("Mid") == 19 * 60 && activeAt("Fired") == 0 && activeAt("Short") == 30 * 60)
        // Beyond the outage tolerance nothing is restored.
        var late = GroupEvaluator(group: file.groups[0], restoring: true)
        _ = try evaluate(&late, 200...201)
        late.restoreForState(at: 201 * minute, from: head, outageTolerance: 60 * minute, gracePeriod: 10 * minute)
        #expect(late.alerts(of: 0).first?.activeAt == 200 * minute)
    }

    /// Notifications as Prometheus sends them: a firing alert at once and then every resend
    /// delay (strictly after it), valid for four times the longer of delay and interval; a
    /// resolved one at once; pending ones never.
    @Test func sendsFiringAndResolvedAlerts() throws {
        let head = Head(options: HeadOptions(chunkSize: 16, stripeCount: 8))
        let file = try RuleFile.parse("groups:\n  - name: g\n    rules:\n      - {alert: Down, expr: up == 0, for: 10s}\n", path: "r.yml")
        var group = GroupEvaluator(group: file.groups[0])
        let policy = SendPolicy(resendDelay: 30_000, interval: 10_000)
        var sent: [Int64: [AlertNotification]] = [:]
        for t in stride(from: Int64(0), through: 120_000, by: 10_000) {
            let app = head.appender()
            try app.append(Labels(["__name__": "up", "instance": "a"]), t, t < 80_000 ? 0 : 1)
            try app.commit()
            group.evaluate(at: t, engine: Engine(), storage: head, store: head,
                           context: AlertContext(externalURL: "http://s:9090"), sending: policy)
            sent[t] = group.takeOutbox()
        }
        #expect(sent[0]?.isEmpty == true)
        let firstSend = try #require(sent[10_000]?.first)
        #expect(firstSend.startsAt == 10_000 && firstSend.endsAt == 10_000 + 120_000)
        #expect(firstSend.labels == Labels(["alertname": "Down", "instance": "a"]))
        #expect(firstSend.generatorURL == "http://s:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1")
        // 20 and 30 s: 30 s after the last send is not yet strictly past; 50 s is.
        #expect(sent[20_000]?.isEmpty == true && sent[40_000]?.isEmpty == true && sent[50_000]?.count == 1)
        // Resolved at 80 s: sent at once with its end.
        #expect(sent[80_000]?.first?.endsAt == 80_000 && sent[80_000]?.first?.startsAt == 10_000)
        #expect(sent[90_000]?.isEmpty == true && sent[120_000]?.count == 1)
    }

    /// A changed group keeps the alerts and series of the rules that stayed; the series of a
    /// rule that went get stale markers.
    @Test func aChangedGroupTakesOverItsRules() throws {
        let head = Head(options: HeadOptions(chunkSize: 16, stripeCount: 8))
        let before = try RuleFile.parse("""
            groups:
              - name: g
                rules:
                  - {alert: Down, expr: up == 0, for: 1m}
                  - {record: gone, expr: vector(1)}
            """, path: "r.yml")
        let after = try RuleFile.parse("""
            groups:
              - name: g
                rules:
                  - {record: new, expr: vector(2)}
                  - {alert: Down, expr: up == 0 and on() vector(1), for: 1m}
            """, path: "r.yml")
        let app = head.appender()
        try app.append(Labels(["__name__": "up", "instance": "a"]), 0, 0)
        try app.commit()
        var old = GroupEvaluator(group: before.groups[0])
        old.evaluate(at: 0, engine: Engine(), storage: head, store: head)
        var new = GroupEvaluator(group: after.groups[0])
        new.takeOver(from: &old)
        old.retire(at: 5_000, store: head)
        #expect(new.alerts(of: 1).first?.activeAt == 0 && new.alerts(of: 1).first?.state == .pending)
        #expect(try stored(head, "gone", at: 5_000).values.first.map(isStaleMarker) == true)
        #expect(try stored(head, "ALERTS", at: 5_000).isEmpty)
    }
}
