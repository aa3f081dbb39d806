import Foundation
@testable import Rules
import Testing
import TestSupport

/// Rule files parse as Prometheus' `rulefmt` parses them: what they hold, and every problem
/// with its line, group and rule; `promtool check rules` agrees on which files are valid.
@Suite struct RuleFileTests {
    static let good = """
        groups:
          - name: api
            interval: 30s
            limit: 10
            rules:
              - record: job:http_requests:rate5m
                expr: sum by (job) (rate(http_requests_total[5m]))
                labels: {team: web}
              - alert: HighErrorRate
                expr: job:http_requests:rate5m{code=~"5.."} > 0.5
                for: 10m
                keep_firing_for: 1m
                labels:
                  severity: page
                annotations:
                  summary: "{{ $labels.job }} errors at {{ $value | humanizePercentage }}"
          - name: empty
            rules: []
        """

    @Test func readsGroupsAndRules() throws {
        let file = try RuleFile.parse(Self.good, path: "good.yml")
        #expect(file.groups.map(\.name) == ["api", "empty"])
        let api = file.groups[0]
        #expect(api.interval == 30_000 && api.limit == 10 && api.rules.count == 2)
        #expect(api.rules[0].kind == .recording("job:http_requests:rate5m"))
        #expect(api.rules[0].labels.map(\.name) == ["team"])
        #expect(api.rules[1].kind == .alerting("HighErrorRate"))
        #expect(api.rules[1].forDuration == 600_000 && api.rules[1].keepFiringFor == 60_000)
        #expect(api.rules[1].annotations.first?.value.contains("humanizePercentage") == true)
        #expect(api.rules[1].line == 9)
        #expect(file.groups[1].interval == nil && file.groups[1].rules.isEmpty)
    }

    static let bad: [(name: String, text: String, expected: [String])] = [
        ("both", """
            groups:
              - name: g
                rules:
                  - record: a
                    alert: b
                    expr: up
            """, ["4:17: group \"g\", rule 1, \"a\": only one of 'record' and 'alert' must be set"]),
        ("neither", """
            groups:
              - name: g
                rules:
                  - expr: up
            """, ["group \"g\", rule 1, \"\": one of 'record' or 'alert' must be set"]),
        ("expr", """
            groups:
              - name: g
                rules:
                  - alert: A
                    expr: sum(up
            """, ["5:15: group \"g\", rule 1, \"A\": could not parse expression"]),
        ("recording", """
            groups:
              - name: g
                rules:
                  - record: "not a name"
                    expr: up
                    for: 5m
                    annotations: {a: b}
            """, ["invalid field 'annotations' in recording rule", "invalid field 'for' in recording rule",
                  "invalid recording rule name: not a name"]),
        ("labels", """
            groups:
              - name: g
                rules:
                  - alert: A
                    expr: up
                    labels: {__name__: x, "bad-name": y}
            """, ["invalid label name: __name__", "invalid label name: bad-name"]),
        ("groups", """
            groups:
              - name: g
                rules: []
              - name: g
                rules: []
              - rules: []
            """, ["4:5: group name \"g\" is repeated in the same file", "6:5: group name must not be empty"]),
        ("unknown", """
            groups:
              - name: g
                evaluation_interval: 1m
                rules:
                  - alert: A
                    expr: up
                    severity: page
            """, ["3:5: field evaluation_interval not found in a rule group", "7:9: field severity not found in a rule"]),
        ("durations", """
            groups:
              - name: g
                interval: 0s
                rules:
                  - alert: A
                    expr: up
                    for: soon
            """, ["interval: not a valid duration string: \"0s\"", "for: not a valid duration string: \"soon\""]),
    ]

    @Test func reportsEveryProblemWithItsPlace() {
        for (name, text, expected) in Self.bad {
            do {
                _ = try RuleFile.parse(text, path: "\(name).yml")
                Issue.record("\(name): parsed")
            } catch {
                for e in expected {
                    #expect(error.problems.contains { $0.contains(e) }, "\(name): \(error.problems) lacks \(e)")
                }
                #expect(error.description.hasPrefix("\(name).yml: "))
            }
        }
    }

    /// Debian's promtool (Prometheus 2.42) takes the good file and refuses every bad one.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool")))
    func promtoolAgrees() throws {
        let dir = temporaryDirectory("rules")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, text, valid) in [("good", Self.good, true)] + Self.bad.map({ ($0.name, $0.text, false) }) {
            let path = "\(dir)/\(name).yml"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let promtool = Process()
            promtool.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
            promtool.arguments = ["check", "rules", path]
            promtool.standardOutput = FileHandle.nullDevice
            promtool.standardError = FileHandle.nullDevice
            try promtool.run()
            promtool.waitUntilExit()
            #expect((promtool.terminationStatus == 0) == valid, "promtool on \(name): \(promtool.terminationStatus)")
            #expect(((try? RuleFile.load(path)) != nil) == valid, "sextant on \(name)")
        }
    }
}
