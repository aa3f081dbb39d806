import Foundation
#if canImport(Glibc)
import Glibc
#endif
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
}
