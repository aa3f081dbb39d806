import Foundation
@testable import Rules
import Storage
import Testing
import TestSupport

/// Alert templates parse and run as Go's text/template with Prometheus' functions: what real
/// rules write expands to what Prometheus writes (checked against Debian's promtool 2.42),
/// and everything else fails with Go's words.
@Suite struct TemplateTests {
    static let labels = Labels([Label("__name__", "node_load1"), Label("instance", "host.example.com:9100"), Label("job", "node")])

    /// The query results templates see here: `m` one sample, anything else none.
    static func query(_ expr: String) throws -> [TemplateValue] {
        expr == "m" ? [.sample(labels: [("__name__", "m"), ("instance", "a:1")], value: 0.25)] : []
    }

    static func expand(_ text: String, value: Double = 1234567.891, externalURL: String? = "http://sextant:9090") throws -> String {
        try AlertTemplate(text, alertName: "A").expand(
            labels: labels, value: value, externalLabels: Labels([Label("cluster", "eu-1")]),
            in: TemplateEnvironment(externalURL: externalURL, query: query))
    }

    /// What the common rule packs write, with the value 1234567.891.
    static let cases: [(template: String, expected: String)] = [
        ("plain text", "plain text"),
        ("{{ $labels.instance }} of {{ $labels.job }}", "host.example.com:9100 of node"),
        ("{{ $value }}", "1.234567891e+06"),
        ("{{ $value | humanize }}", "1.235M"),
        ("{{ humanize1024 $value }}", "1.177Mi"),
        ("{{ printf \"%.2f\" $value }}", "1234567.89"),
        ("{{ printf \"%.0f%%\" 12.5 }}", "12%"),
        ("{{ $labels.missing }}|", "|"),
        ("{{ $externalLabels.cluster }} {{ $externalURL }}", "eu-1 http://sextant:9090"),
        ("{{ if gt $value 100.0 }}high{{ else }}low{{ end }}", "high"),
        ("{{ if lt $value 1.0 }}a{{ else if eq $labels.job \"node\" \"x\" }}b{{ else }}c{{ end }}", "b"),
        ("{{ with query \"m\" }}{{ . | first | value | humanizePercentage }}{{ end }}", "25%"),
        ("{{ range query \"m\" }}{{ .Labels.instance }}={{ .Value }};{{ end }}", "a:1=0.25;"),
        ("{{ range $i, $s := query \"m\" }}{{ $i }}:{{ label \"instance\" $s }}{{ end }}", "0:a:1"),
        ("{{ range query \"none\" }}x{{ else }}empty{{ end }}", "empty"),
        ("{{ with query \"none\" }}x{{ else }}none{{ end }}", "none"),
        ("{{ $labels.instance | stripPort }} {{ $labels.instance | stripDomain }}", "host.example.com host:9100"),
        ("{{ \"disk full\" | title }} {{ toUpper \"a\" }}{{ toLower \"B\" }}", "Disk Full Ab"),
        ("  {{- \"trim\" -}}  |", "trim|"),
        ("{{/* a comment */}}x", "x"),
        ("{{ $x := 3 }}{{ $x = 4 }}{{ $x }}", "4"),
        ("{{ and 1 0 }} {{ or 0 \"\" \"z\" }} {{ not true }}", "0 z false"),
        ("{{ len $labels }} {{ index $labels \"job\" }}", "3 node"),
        ("{{ reReplaceAll \"(.*):(.*)\" \"$2 on $1\" $labels.instance }}", "9100 on host.example.com"),
        ("{{ match \"^host\" $labels.instance }}", "true"),
        ("{{ 3600 | humanizeDuration }} {{ 0.25 | humanizeDuration }}", "1h 0m 0s 250ms"),
        ("{{ humanizeTimestamp 1435065584.128 }}", "2015-06-23 13:19:44.128 +0000 UTC"),
        ("{{ graphLink \"up == 0\" }}", "/graph?g0.expr=up+%3D%3D+0&g0.tab=0"),
        ("{{ parseDuration \"1h2m\" }}", "3720"),
        ("{{ range $k, $v := $labels }}{{ $k }};{{ end }}", "__name__;instance;job;"),
        ("{{ range query \"m\" }}{{ break }}{{ end }}.", "."),
        ("{{ print 1 2 \"a\" \"b\" }} {{ println \"x\" }}", "1 2ab x\n"),
        ("{{ 1234567.0 }} {{ 0.00001 }} {{ 5.0 }}", "1.234567e+06 1e-05 5"),
        ("{{ externalURL }} {{ pathPrefix }}", "http://sextant:9090 "),
    ]

    @Test func expandsAsPrometheus() throws {
        for c in Self.cases {
            #expect(try Self.expand(c.template) == c.expected, "\(c.template)")
        }
    }

    /// Failures at run time leave Go's message in the value, with the position as Go counts
    /// it (the 112-byte header is on the first line).
    @Test func executionErrorsAreTheValue() throws {
        let first = try Self.expand("{{ first (query \"nosuch\") }}")
        #expect(first == "<error expanding template: error executing template __alert_A: template: __alert_A:1:115: executing \"__alert_A\" at <first (query \"nosuch\")>: error calling first: first() called on vector with no elements>")
        let field = try Self.expand("{{ .Foo }}")
        #expect(field.contains("at <.Foo>: can't evaluate field Foo in type struct { Labels map[string]string;"))
        let gt = try Self.expand("{{ gt $value 1 }}")
        #expect(gt.hasSuffix("at <gt $value 1>: error calling gt: incompatible types for comparison>"))
        let arity = try Self.expand("{{ humanize 1 2 }}")
        #expect(arity.hasSuffix("wrong number of args for humanize: want 1 got 2>"))
        let noURL = try Self.expand("{{ externalURL }}", externalURL: nil)
        #expect(noURL.contains("error calling externalURL: runtime error: invalid memory address or nil pointer dereference"))
    }

    /// A template that cannot write more than the limit stops there.
    @Test func outputIsBounded() throws {
        let t = try Template("{{ range $i, $e := query \"m\" }}{{ printf \"%99999s\" \"x\" }}{{ end }}", name: "t")
        #expect(throws: TemplateError.self) {
            _ = try t.execute(.none, in: TemplateEnvironment(query: Self.query, maxOutputBytes: 1000))
        }
    }

    /// Parse errors as Go words them, found when the rule file is read.
    @Test func parseErrors() {
        for (text, message) in [
            ("{{ foo }}", "template: __alert_A:1: function \"foo\" not defined"),
            ("{{ if 1 }}", "template: __alert_A:1: unexpected EOF"),
            ("{{ end }}", "template: __alert_A:1: unexpected {{end}}"),
            ("{{ $nope }}", "template: __alert_A:1: undefined variable \"$nope\""),
            ("x\n{{ \"a\" 1 }}", "template: __alert_A:2: can't give argument to non-function \"a\""),
            ("{{ break }}", "template: __alert_A:1: {{break}} outside {{range}}"),
            ("{{ define \"x\" }}{{ end }}", "template: __alert_A:1: {{define}} is not supported in Sextant's templates"),
            ("{{ .x", "template: __alert_A:1: unclosed action"),
            (String(repeating: "{{ if 1 }}", count: 101), "template: __alert_A:1: nested deeper than 100 levels"),
            ("{{ " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + " }}",
             "template: __alert_A:1: nested deeper than 100 levels"),
        ] {
            do {
                _ = try AlertTemplate(text, alertName: "A")
                Issue.record("\(text) parsed")
            } catch {
                #expect(error.description == message, "\(text)")
            }
        }
    }

    /// A rule file with a bad template is refused with the file, rule and template named.
    @Test func ruleFilesCheckTheirTemplates() {
        let text = """
            groups:
              - name: g
                rules:
                  - alert: Name
                    expr: up == 0
                    labels: {sev: "{{ foo }}"}
                    annotations: {summary: "{{ $labels.x | nosuch }}"}
            """
        do {
            _ = try RuleFile.parse(text, path: "bad.yml")
            Issue.record("parsed")
        } catch {
            #expect(error.description.contains("group \"g\", rule 1, \"Name\": label \"sev\": template: __alert_Name:1: function \"foo\" not defined"))
            #expect(error.description.contains("annotation \"summary\": template: __alert_Name:1: function \"nosuch\" not defined"))
        }
    }

    /// Every case above, and the failing ones, expanded by promtool 2.42 for the same alert:
    /// the annotations Sextant writes are the ones promtool's unit test expects.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool")))
    func promtoolExpandsTheSame() async throws {
        let dir = temporaryDirectory("templates")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // promtool has no external URL for `externalURL`, and `$externalURL` is the test's.
        let templates = Self.cases.map(\.template).filter { !$0.contains("externalURL") }
            + ["{{ first (query \"nosuch\") }}", "{{ .Foo }}", "{{ gt $value 1 }}", "{{ humanize \"x\" }}"]
        func quoted(_ s: String) throws -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .withoutEscapingSlashes
            return String(decoding: try encoder.encode(s), as: UTF8.self)
        }
        var rule = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: node_load1\n    annotations:\n"
        var expected = ""
        let env = TemplateEnvironment(externalURL: "", query: { expr in
            expr == "m" ? [.sample(labels: [("__name__", "m"), ("instance", "a:1")], value: 0.25)] : []
        })
        for (i, t) in templates.enumerated() {
            rule += "      a\(i): \(try quoted(t))\n"
            let got = try AlertTemplate(t, alertName: "A").expand(labels: Self.labels, value: 1234567.891,
                                                                  externalLabels: Labels([Label("cluster", "eu-1")]), in: env)
            expected += "          a\(i): \(try quoted(got))\n"
        }
        try rule.write(toFile: dir + "/rules.yml", atomically: true, encoding: .utf8)
        let test = """
            rule_files: [rules.yml]
            evaluation_interval: 1m
            tests:
            - interval: 1m
              external_labels: {cluster: eu-1}
              input_series:
              - series: 'node_load1{instance="host.example.com:9100", job="node"}'
                values: '1234567.891'
              - series: 'm{instance="a:1"}'
                values: '0.25'
              alert_rule_test:
              - eval_time: 0m
                alertname: A
                exp_alerts:
                - exp_labels: {instance: "host.example.com:9100", job: node}
                  exp_annotations:

            """ + expected
        try test.write(toFile: dir + "/test.yml", atomically: true, encoding: .utf8)
        let out = try await runProcess("/usr/bin/promtool", ["test", "rules", "test.yml"], currentDirectory: dir)
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
    }
}
