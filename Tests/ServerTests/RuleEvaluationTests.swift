import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif
@testable import Server
import Testing
import TestSupport

/// `sextant serve` evaluates the configuration's `rule_files`: recorded series and `ALERTS`
/// appear through the API, and a reload with a bad rule file is refused while the running
/// rules go on.
@Suite struct RuleEvaluationTests {
    @Test func evaluatesRuleFilesAndKeepsThemOnABadReload() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = freePort()
        let rules = dir + "/rules.yml"
        try """
        groups:
          - name: self
            rules:
              - record: job:up:sum
                expr: sum by (job) (up)
              - alert: AlwaysOn
                expr: vector(1)
                labels: {severity: none}
        """.write(toFile: rules, atomically: true, encoding: .utf8)
        let config = dir + "/prometheus.yml"
        try """
        global: {scrape_interval: 1s, evaluation_interval: 1s}
        rule_files: [rules.yml]
        scrape_configs:
          - job_name: self
            static_configs: [{targets: ['127.0.0.1:\(port)']}]
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let server = try ServerProcess(directory: dir + "/data", port: port, arguments: ["--config.file", config])
        try await server.waitReady()
        let url = "http://127.0.0.1:\(port)"
        let recorded = await eventually(30, every: .milliseconds(250)) {
            ((try? await rawSamples(url, "job:up:sum"))?["__name__=job:up:sum,job=self"]?.values.first) == "1"
        }
        #expect(recorded, "job:up:sum was not recorded")
        let firing = await eventually(10, every: .milliseconds(250)) {
            let key = "__name__=ALERTS,alertname=AlwaysOn,alertstate=firing,severity=none"
            return ((try? await rawSamples(url, "ALERTS"))?[key]?.values.first) == "1"
        }
        #expect(firing, "ALERTS has no firing AlwaysOn")

        // The rules and alerts API in Prometheus' shapes.
        func get(_ path: String) async throws -> [String: Any] {
            let (data, _) = try await URLSession.shared.data(from: URL(string: url + path)!)
            let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            #expect(json?["status"] as? String == "success", "\(path): \(String(decoding: data, as: UTF8.self))")
            return json?["data"] as? [String: Any] ?? [:]
        }
        let groups = try await get("/api/v1/rules")["groups"] as? [[String: Any]] ?? []
        #expect(groups.count == 1 && groups.first?["name"] as? String == "self" && groups.first?["interval"] as? Double == 1)
        let ruleList = groups.first?["rules"] as? [[String: Any]] ?? []
        #expect(ruleList.map { $0["type"] as? String } == ["recording", "alerting"])
        #expect(ruleList.map { $0["health"] as? String } == ["ok", "ok"])
        #expect(ruleList.last?["state"] as? String == "firing" && ruleList.last?["query"] as? String == "vector(1)")
        let alertOnly = try await get("/api/v1/rules?type=alert")["groups"] as? [[String: Any]] ?? []
        #expect((alertOnly.first?["rules"] as? [[String: Any]])?.count == 1)
        let alerts = try await get("/api/v1/alerts")["alerts"] as? [[String: Any]] ?? []
        #expect(alerts.count == 1 && alerts.first?["state"] as? String == "firing" && alerts.first?["value"] as? String == "1e+00")
        #expect((alerts.first?["labels"] as? [String: String])?["alertname"] == "AlwaysOn")
        let (metrics, _) = try await URLSession.shared.data(from: URL(string: url + "/metrics")!)
        let text = String(decoding: metrics, as: UTF8.self)
        #expect(text.contains("sextant_rule_evaluations_total{rule_group=\"\(rules);self\"}"))
        #expect(text.contains("sextant_rule_evaluation_failures_total{rule_group=\"\(rules);self\"} 0"))

        // A bad rule file: the reload is refused, the rules in force keep running.
        try "groups:\n  - name: self\n    rules:\n      - record: x\n        expr: sum(\n".write(toFile: rules, atomically: true, encoding: .utf8)
        kill(server.process.processIdentifier, SIGHUP)
        func newest() async -> Double? {
            (try? await rawSamples(url, "timestamp(job:up:sum)"))?.values.first?.values.first.flatMap(Double.init)
        }
        try await Task.sleep(for: .seconds(1))
        let before = await newest()
        let advanced = await eventually(10, every: .milliseconds(250)) {
            guard let b = before, let now = await newest() else { return false }
            return now >= b + 2
        }
        #expect(advanced, "rules stopped after the refused reload")
        #expect(await server.terminate() == 0)
    }

    /// Alert values as Go's `strconv.FormatFloat(v, 'e', -1, 64)` writes them.
    @Test func valuesInGoExponentForm() {
        let cases: [(Double, String)] = [(1, "1e+00"), (0.3, "3e-01"), (12345.678, "1.2345678e+04"), (1e-5, "1e-05"),
                                         (100, "1e+02"), (-2.5, "-2.5e+00"), (1.25e16, "1.25e+16"), (0, "0e+00"),
                                         (.nan, "NaN"), (.infinity, "+Inf"), (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308")]
        for (v, text) in cases { #expect(RFC3339.goExponent(v) == text, "\(v)") }
    }
}
