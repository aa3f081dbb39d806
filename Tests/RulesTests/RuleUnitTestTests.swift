import Foundation
@testable import Rules
import Storage
import Testing
import TestSupport

/// `sextant test rules` as `promtool test rules` (Prometheus 2.42): the values notation, the
/// series and metric notation with Prometheus' parse errors, and whole test files whose
/// output (each error, its wording and layout) is what promtool printed for the same files.
@Suite struct RuleUnitTestTests {
    // MARK: Values notation

    static func isStale(_ v: Double?) -> Bool {
        v.map { isStaleMarker($0) } ?? false
    }

    @Test func expandsValuesAsPromtool() throws {
        #expect(try SeriesNotation.values("-2+4x3") == [-2, 2, 6, 10])
        #expect(try SeriesNotation.values("1-2x4") == [1, -1, -3, -5, -7])
        #expect(try SeriesNotation.values("10+10x2 30+20x5") == [10, 20, 30, 30, 50, 70, 90, 110, 130])
        #expect(try SeriesNotation.values("1x4") == [1, 1, 1, 1, 1])
        #expect(try SeriesNotation.values("1x0 2") == [1, 2])
        // `_xN` omits N slots (not N+1); `_x0` none.
        #expect(try SeriesNotation.values("_x0 1") == [1])
        #expect(try SeriesNotation.values("1 _x2 3 _") == [1, nil, nil, 3, nil])
        // Integers in base 0 (a leading 0 is octal); no hexadecimal: `0x3` is 0 repeated.
        #expect(try SeriesNotation.values("010 0x3") == [8, 0, 0, 0, 0])
        #expect(try SeriesNotation.values("08 +5 1e3 .5 1.") == [8, 5, 1000, 0.5, 1])
        // Repeated addition, not a + i*b.
        #expect(try SeriesNotation.values("0.1+0.1x2") == [0.1, 0.2, 0.1 + 0.1 + 0.1])
        let special = try SeriesNotation.values("Inf -inf NaN stale 1 stale+1x1")
        try #require(special.count == 7)
        #expect(special[0] == .infinity && special[1] == -.infinity)
        #expect(special[2]?.isNaN == true && !Self.isStale(special[2]))
        #expect(Self.isStale(special[3]) && special[4] == 1)
        // A stale marker plus one is an ordinary NaN.
        #expect(Self.isStale(special[5]) && special[6]?.isNaN == true && !Self.isStale(special[6]))
        #expect(try SeriesNotation.values("") == [])
    }

    /// Each error as promtool printed it for a series `x` with these values.
    static let valueErrors: [(values: String, error: String)] = [
        ("1 foo 2", #"1:5: parse error: unexpected identifier "foo" in series values, expected number or "stale""#),
        ("stalex3", #"1:3: parse error: unexpected identifier "stalex3" in series values, expected number or "stale""#),
        ("Infx2", #"1:3: parse error: unexpected identifier "Infx2" in series values, expected number or "stale""#),
        ("0x1f", #"1:5: parse error: bad number syntax: "1""#),
        ("1+1", #"1:6: parse error: unexpected end of input in series values"#),
        ("1 - 2", #"1:6: parse error: unexpected " " in series values"#),
        ("1x", #"1:5: parse error: unexpected end of input in series values"#),
        ("_ _x", #"1:7: parse error: unexpected end of input in series values"#),
        ("1 x", #"1:5: parse error: unexpected "x""#),
        ("_1", #"1:4: parse error: unexpected number "1""#),
        ("1_", #"1:3: parse error: bad number syntax: "1""#),
        ("1 sum", #"1:5: parse error: unexpected <aggr:sum>"#),
        ("1,2", #"1:4: parse error: unexpected character in series sequence: ','"#),
        ("1 {", #"1:5: parse error: unexpected character in series sequence: '{'"#),
        ("1e", #"1:3: parse error: error parsing number: strconv.ParseFloat: parsing "1e": invalid syntax"#),
        ("1x1.5", #"1:5: parse error: invalid repetition in series values: strconv.ParseUint: parsing "1.5": invalid syntax"#),
        ("1+-2x2", #"1:5: parse error: unexpected <op:-> in series values"#),
        ("-1--2x2", #"1:6: parse error: unexpected <op:-> in series values"#),
    ]

    @Test func valueErrorsAsPromtool() {
        for (values, expected) in Self.valueErrors {
            do {
                let v = try SeriesNotation.values(values)
                Issue.record("\(values) gave \(v)")
            } catch {
                #expect(error.description == expected, "\(values)")
            }
        }
    }

    /// promtool runs out of memory on `1x100000000`; here the expansion is capped (before
    /// anything is allocated) at `SeriesNotation.maxSamples` for a test group's series.
    @Test func capsTheExpansion() throws {
        do {
            _ = try SeriesNotation.values("1x10000000")
            Issue.record("no error")
        } catch {
            #expect(error.description == "1:5: parse error: the input series expand to more than 10000000 samples")
        }
        // A count beyond 64 bits is Prometheus' own error.
        do {
            _ = try SeriesNotation.values("1x99999999999999999999")
            Issue.record("no error")
        } catch {
            #expect(error.message.hasSuffix(#"parsing "99999999999999999999": value out of range"#))
        }
        // The budget is shared by the lines of a test group.
        var budget = 10
        let first = try SeriesNotation.parseSeries("x 1x4 _x1000000000000 2", budget: &budget)
        #expect(first.samples.count == 6 && first.samples.last?.slot == 1_000_000_000_005 && budget == 4)
        #expect(throws: SeriesNotationError.self) { try SeriesNotation.parseSeries("y 1x4", budget: &budget) }
        #expect(budget == 4)
        #expect(try SeriesNotation.parseSeries("y 1x3", budget: &budget).samples.count == 4 && budget == 0)
    }

    // MARK: Series and metric notation

    static func pairs(_ labels: [(name: String, value: String)]) -> [String] {
        labels.map { "\($0.name)=\($0.value)" }
    }

    @Test func parsesMetricsAsPromtool() throws {
        // A name with a label set: labels with empty values are dropped, the name wins over
        // __name__, repeated names are kept (sorted, in order).
        #expect(Self.pairs(try SeriesNotation.parseMetric(#"x{b="1", a="2", b="3"}"#)) == ["__name__=x", "a=2", "b=1", "b=3"])
        #expect(Self.pairs(try SeriesNotation.parseMetric(#"x{a=""}"#)) == ["__name__=x"])
        #expect(Self.pairs(try SeriesNotation.parseMetric(#"x{__name__="y", a="b",}"#)) == ["__name__=x", "a=b"])
        // A label set alone keeps everything.
        #expect(Self.pairs(try SeriesNotation.parseMetric(#"{__name__="x", a="", b="2", b="1"}"#)) == ["__name__=x", "a=", "b=2", "b=1"])
        #expect(try SeriesNotation.parseMetric("").isEmpty && SeriesNotation.parseMetric("{}").isEmpty)
        // Keywords name metrics; quotes of all three kinds, Go escapes.
        #expect(Self.pairs(try SeriesNotation.parseMetric(#"sum{a='b', c=`d\n`, e="\u00e9\x41\101\t"}"#)) == ["__name__=sum", "a=b", #"c=d\n"#, "e=\u{e9}AA\t"])
    }

    static let metricErrors: [(metric: String, error: String)] = [
        ("up{job=}", #"1:8: parse error: unexpected "}" in label set, expected string"#),
        ("x{a=b}", #"1:5: parse error: unexpected identifier "b" in label set, expected string"#),
        ("x{a}", #"1:4: parse error: unexpected "}" in label set, expected "=""#),
        (#"x{a="b" c="d"}"#, #"1:9: parse error: unexpected identifier "c" in label set, expected "," or "}""#),
        ("x{,}", #"1:3: parse error: unexpected "," in label set, expected identifier or "}""#),
        (#"x{a!="b"}"#, #"1:4: parse error: unexpected <op:!=> in label set, expected "=""#),
        (#"x{"a"="b"}"#, #"1:3: parse error: unexpected string "\"a\"" in label set, expected identifier or "}""#),
        (#"x{a="b""#, #"1:8: parse error: unexpected end of input inside braces"#),
        (#"x{a="b}"#, #"1:5: parse error: unterminated quoted string"#),
        (#"y{a="\q"}"#, #"1:5: parse error: unknown escape sequence U+0071 'q'"#),
        ("x 1", #"1:3: parse error: unexpected number "1""#),
        ("bool", #"1:1: parse error: unexpected <bool>"#),
        (#"x{a="b"} {c="d"}"#, #"1:10: parse error: unexpected "{""#),
    ]

    @Test func metricErrorsAsPromtool() {
        for (metric, expected) in Self.metricErrors {
            do {
                let labels = try SeriesNotation.parseMetric(metric)
                Issue.record("\(metric) gave \(Self.pairs(labels))")
            } catch {
                #expect(error.description == expected, "\(metric)")
            }
        }
    }

    @Test func seriesLinesAsPromtool() throws {
        var budget = SeriesNotation.maxSamples
        let s = try SeriesNotation.parseSeries(#"up{job="a", instance="i"} 1+1x2 _ stale"#, budget: &budget)
        #expect(Self.pairs(s.labels) == ["__name__=up", "instance=i", "job=a"])
        #expect(s.samples.map(\.slot) == [0, 1, 2, 4] && s.slots == 5 && budget == SeriesNotation.maxSamples - 4)
        // Errors of the metric part and right after it name the series values.
        for (line, expected) in [
            ("1", #"1:1: parse error: unexpected number "1" in series values"#),
            ("x{}1", #"1:4: parse error: unexpected number "1" in series values"#),
            (#"bool{a="b"} 1"#, #"1:1: parse error: unexpected <bool> in series values"#),
            (#"x{a="b"}{c="d"} 1"#, #"1:9: parse error: unexpected character in series sequence: '{'"#),
            ("1sum", #"1:1: parse error: bad number or duration syntax: "1su""#),
            ("!x", #"1:1: parse error: unexpected character after '!': 'x'"#),
        ] {
            do {
                _ = try SeriesNotation.parseSeries(line, budget: &budget)
                Issue.record("no error for \(line)")
            } catch {
                #expect(error.description == expected, "\(line)")
            }
        }
    }

    // MARK: Test files

    /// The files, as written to a directory for each test.
    static let files: [(name: String, text: String)] = [
        (#"rules.yml"#, #"""
        groups:
          - name: recording
            rules:
              - record: job:up:sum
                expr: sum by (job) (up)
          - name: alerts
            rules:
              - alert: InstanceDown
                expr: up == 0
                for: 2m
                labels:
                  severity: page
                annotations:
                  summary: "{{ $labels.instance }} of {{ $labels.job }} down"
                  value: "{{ $value }} in {{ $externalLabels.env }} at {{ $externalURL }}"
              - alert: JobDegraded
                expr: job:up:sum < 2
                labels:
                  severity: ticket
        """#),
        (#"bad_eval.yml"#, #"""
        groups:
          - name: g
            rules:
              - record: flat
                expr: up
                labels:
                  instance: same
              - alert: Flat
                expr: up
                labels:
                  instance: same
        """#),
        (#"broken_rules.yml"#, #"""
        groups:
          - name: g
            rules:
              - record: c
                expr: sum(
        """#),
        (#"url_rules.yml"#, #"""
        groups:
          - name: g
            rules:
              - alert: T
                expr: up
                annotations:
                  a: '{{ $externalURL }}'
                  b: '{{ externalURL }}'
                  c: '{{ $externalLabels.env }}'
                  d: '{{ pathPrefix }}'
                  e: ''
        """#),
        (#"append_rules.yml"#, #"""
        groups:
          - name: g1
            rules:
              - record: x
                expr: y * 2
              - record: m
                expr: up[5m]
        """#),
        (#"pass.yml"#, #"""
        rule_files: [rules.yml]
        evaluation_interval: 1m
        group_eval_order: [recording, alerts]
        tests:
          - interval: 1m
            external_labels: {env: prod}
            external_url: http://example.com
            input_series:
              - series: 'up{job="api", instance="a"}'
                values: '1 1 0 0 0 0 0 1'
              - series: 'up{job="api", instance="b"}'
                values: '1x7'
            alert_rule_test:
              - eval_time: 3m
                alertname: InstanceDown
              - eval_time: 4m
                alertname: InstanceDown
                exp_alerts:
                  - exp_labels: {severity: page, instance: a, job: api}
                    exp_annotations:
                      summary: "a of api down"
                      value: "0 in prod at http://example.com"
              - eval_time: 270s
                alertname: InstanceDown
                exp_alerts:
                  - exp_labels: {severity: page, instance: a, job: api}
                    exp_annotations:
                      summary: "a of api down"
                      value: "0 in prod at http://example.com"
              - eval_time: 4m
                alertname: JobDegraded
                exp_alerts:
                  - exp_labels: {severity: ticket, job: api}
              - eval_time: 7m
                alertname: InstanceDown
            promql_expr_test:
              - expr: job:up:sum
                eval_time: 2m
                exp_samples:
                  - labels: 'job:up:sum{job="api"}'
                    value: 1
              - expr: ALERTS{alertstate="firing"}
                eval_time: 5m
                exp_samples:
                  - labels: 'ALERTS{alertname="InstanceDown", alertstate="firing", instance="a", job="api", severity="page"}'
                    value: 1
                  - labels: 'ALERTS{alertname="JobDegraded", alertstate="firing", job="api", severity="ticket"}'
                    value: 1
              - expr: count(up)
                eval_time: 5m
                exp_samples:
                  - value: 2
              - expr: scalar(count(up))
                eval_time: 5m
                exp_samples:
                  - labels: '{}'
                    value: 2
          - interval: 30s
            name: values notation
            input_series:
              - series: 'x{a="1"}'
                values: '-2+4x3 _x2 stale 7'
              - series: '{__name__="y"}'
                values: '1e3 .5 010 Inf -Inf'
            promql_expr_test:
              - expr: x
                eval_time: 90s
                exp_samples:
                  - labels: 'x{a="1"}'
                    value: 10
              - expr: x
                eval_time: 150s
                exp_samples:
                  - labels: 'x{a="1"}'
                    value: 10
              - expr: x
                eval_time: 3m
              - expr: x
                eval_time: 210s
              - expr: y
                eval_time: 1m
                exp_samples:
                  - labels: y
                    value: 8
        """#),
        (#"fail_alerts.yml"#, #"""
        rule_files: [rules.yml]
        group_eval_order: [recording, alerts]
        tests:
          - interval: 1m
            name: wrong labels
            input_series:
              - series: 'up{job="api", instance="a"}'
                values: '0x5'
            alert_rule_test:
              - eval_time: 3m
                alertname: InstanceDown
                exp_alerts:
                  - exp_labels: {severity: critical, instance: a, job: api}
                    exp_annotations:
                      summary: "a of api down"
                      value: "0 in  at "
          - interval: 1m
            external_labels: {env: "dev"}
            input_series:
              - series: 'up{job="api", instance="a"}'
                values: '0x5'
              - series: 'up{job="api", instance="b"}'
                values: '0x5'
              - series: 'up{job="web", instance="c"}'
                values: '1x5'
            alert_rule_test:
              - eval_time: 2m
                alertname: InstanceDown
                exp_alerts:
                  - exp_labels: {severity: page, instance: b, job: api}
                    exp_annotations:
                      summary: "b of api down"
                      value: "0 in dev at "
                  - exp_labels: {severity: page, instance: a, job: api}
                    exp_annotations:
                      summary: "a of api is down"
                      value: "0 in dev at "
              - eval_time: 2m
                alertname: JobDegraded
              - eval_time: 2m
                alertname: NoSuchAlert
                exp_alerts:
                  - exp_labels: {alertname: Overridden, "with space": "quote\"d\ttab"}
        """#),
        (#"fail_promql.yml"#, #"""
        rule_files: [rules.yml]
        evaluation_interval: 30s
        tests:
          - interval: 1m
            input_series:
              - series: 'up{job="api", instance="a"}'
                values: '1 1 1'
              - series: 'up{job="api", instance="b"}'
                values: '0 0 0'
              - series: 'ratio'
                values: '0.1 0.25 123.456'
            promql_expr_test:
              - expr: job:up:sum
                eval_time: 1m
                exp_samples:
                  - labels: 'job:up:sum{job="api"}'
                    value: 2
              - expr: up
                eval_time: 1m
                exp_samples:
                  - labels: 'up{job="api", instance="b"}'
                    value: 0
                  - labels: 'up{job="api", instance="a"}'
                    value: 1
                  - labels: 'up{job="api", instance="c"}'
                    value: 1
              - expr: ratio * 1e6
                eval_time: 2m
                exp_samples:
                  - labels: '{}'
                    value: 123456000
              - expr: 1+
                eval_time: 0m
              - expr: up
                eval_time: 90s
                exp_samples:
                  - labels: 'up{job=}'
                    value: 1
              - expr: time()
                eval_time: 1h1m1s
                exp_samples:
                  - labels: ''
                    value: 3661
              - expr: vector(time())
                eval_time: 2d
                exp_samples:
                  - value: 1e-7
              - expr: up[1m]
                eval_time: 1m
              - expr: '"a string"'
                eval_time: 1m
              - expr: 0/0
                eval_time: 1m
                exp_samples:
                  - value: .nan
              - expr: -1/0
                eval_time: 1m
                exp_samples:
                  - value: -.inf
        """#),
        (#"missing_alertname.yml"#, #"""
        rule_files: [rules.yml]
        tests:
          - interval: 1m
            input_series:
              - series: 'up{job="api", instance="a"}'
                values: '0x5'
            alert_rule_test:
              - eval_time: 2m
                alertname: InstanceDown
              - eval_time: 1h30m
                exp_alerts: []
          - interval: 1m
            name: second
            alert_rule_test:
              - eval_time: 0s
        """#),
        (#"unknown_field.yml"#, #"""
        rule_files: [rules.yml]
        evaluation_intervall: 1m
        tests:
          - interval: 1m
            input_series:
              - series: 'up'
                values: '1'
                value: '2'
            alert_rule_tests:
              - eval_time: 1m
            promql_expr_test:
              - expr: up
                eval_time: 1m
                exp_samples:
                  - labels: up
                    value: "1"
                  - labels: [up]
                    value: yes
        """#),
        (#"rule_error.yml"#, #"""
        rule_files: [bad_eval.yml]
        evaluation_interval: 30s
        tests:
          - interval: 30s
            input_series:
              - series: 'up{instance="a"}'
                values: '_ _ _ 1'
              - series: 'up{instance="b"}'
                values: '_ _ _ 1'
            promql_expr_test:
              - expr: up
                eval_time: 5m
          - interval: 1m
            name: fine
            input_series:
              - series: 'up{instance="a"}'
                values: '1'
            promql_expr_test:
              - expr: flat
                eval_time: 0m
                exp_samples:
                  - labels: 'flat{instance="same"}'
                    value: 2
        """#),
        (#"bad_series.yml"#, #"""
        rule_files: [rules.yml]
        tests:
          - interval: 1m
            input_series:
              - series: 'up{job="a", instance="i1"}'
                values: '1 foo 2'
          - interval: 1m
            input_series:
              - series: 'up{job="a"}'
                values: '1+1'
          - interval: 1m
            input_series:
              - series: 'up{job=a}'
                values: '1'
          - interval: 1m
            input_series:
              - series: 'up'
                values: '1 _x3 stalex2'
        """#),
        (#"order_and_glob.yml"#, #"""
        rule_files: [rules.yml, "missing/*.yml"]
        group_eval_order: [alerts, recording, alerts]
        tests:
          - interval: 1m
        """#),
        (#"no_interval.yml"#, #"""
        rule_files: [rules.yml]
        group_eval_order: [recording, alerts]
        tests:
          - input_series:
              - series: 'up{job="api", instance="a"}'
                values: '0 1 1 1 1 1 1'
            alert_rule_test:
              - eval_time: 5m
                alertname: InstanceDown
                exp_alerts:
                  - exp_labels: {severity: page, instance: a, job: api}
                    exp_annotations:
                      summary: "a of api down"
                      value: "0 in  at "
            promql_expr_test:
              - expr: up
                eval_time: 5m
                exp_samples:
                  - labels: 'up{job="api", instance="a"}'
                    value: 0
              - expr: up
                eval_time: 6m
        """#),
        (#"order_alerts_first.yml"#, #"""
        rule_files: [rules.yml]
        group_eval_order: [alerts, recording]
        tests:
          - interval: 1m
            input_series:
              - series: 'up{job="api", instance="a"}'
                values: '1x3'
            alert_rule_test:
              - eval_time: 0m
                alertname: JobDegraded
                exp_alerts:
                  - exp_labels: {severity: ticket, job: api}
        """#),
        (#"order_recording_first.yml"#, #"""
        rule_files: [rules.yml]
        group_eval_order: [recording, alerts]
        tests:
          - interval: 1m
            input_series:
              - series: 'up{job="api", instance="a"}'
                values: '1x3'
            alert_rule_test:
              - eval_time: 0m
                alertname: JobDegraded
                exp_alerts:
                  - exp_labels: {severity: ticket, job: api}
        """#),
        (#"bad_rules.yml"#, #"""
        rule_files: [broken_rules.yml]
        tests:
          - interval: 1m
        """#),
        (#"external_url.yml"#, #"""
        rule_files: [url_rules.yml]
        tests:
          - interval: 1m
            external_url: http://ex.com/prefix
            external_labels: {env: prod}
            input_series:
              - series: 'up{instance="a"}'
                values: '1'
            alert_rule_test:
              - eval_time: 0m
                alertname: T
        """#),
        (#"append_error.yml"#, #"""
        rule_files: [append_rules.yml]
        tests:
          - interval: 1m
            input_series:
              - series: 'up{instance="a"}'
                values: '1 1 1'
              - series: 'x'
                values: '1 1 1'
              - series: 'y'
                values: '1 1 1'
            promql_expr_test:
              - expr: x
                eval_time: 2m
        """#),
    ]

    /// What promtool printed on stderr for each test file (`DIR` is the files' directory),
    /// and how many errors (empty lines on stdout).
    static let expected: [(file: String, stderr: String, errors: Int)] = [
        (#"pass.yml"#, "", 0),
        (#"fail_alerts.yml"#, [
            #"  FAILED:"#,
            #"    name: wrong labels,"#,
            #"    alertname: InstanceDown, time: 3m, "#,
            #"        exp:["#,
            #"            0:"#,
            #"              Labels:{alertname="InstanceDown", instance="a", job="api", severity="critical"}"#,
            #"              Annotations:{summary="a of api down", value="0 in  at "}"#,
            #"            ], "#,
            #"        got:["#,
            #"            0:"#,
            #"              Labels:{alertname="InstanceDown", instance="a", job="api", severity="page"}"#,
            #"              Annotations:{summary="a of api down", value="0 in  at "}"#,
            #"            ]"#,
            #"    alertname: InstanceDown, time: 2m, "#,
            #"        exp:["#,
            #"            0:"#,
            #"              Labels:{alertname="InstanceDown", instance="a", job="api", severity="page"}"#,
            #"              Annotations:{summary="a of api is down", value="0 in dev at "},"#,
            #"            1:"#,
            #"              Labels:{alertname="InstanceDown", instance="b", job="api", severity="page"}"#,
            #"              Annotations:{summary="b of api down", value="0 in dev at "}"#,
            #"            ], "#,
            #"        got:["#,
            #"            0:"#,
            #"              Labels:{alertname="InstanceDown", instance="a", job="api", severity="page"}"#,
            #"              Annotations:{summary="a of api down", value="0 in dev at "},"#,
            #"            1:"#,
            #"              Labels:{alertname="InstanceDown", instance="b", job="api", severity="page"}"#,
            #"              Annotations:{summary="b of api down", value="0 in dev at "}"#,
            #"            ]"#,
            #"    alertname: JobDegraded, time: 2m, "#,
            #"        exp:[], "#,
            #"        got:["#,
            #"            0:"#,
            #"              Labels:{alertname="JobDegraded", job="api", severity="ticket"}"#,
            #"              Annotations:{},"#,
            #"            1:"#,
            #"              Labels:{alertname="JobDegraded", job="web", severity="ticket"}"#,
            #"              Annotations:{}"#,
            #"            ]"#,
            #"    alertname: NoSuchAlert, time: 2m, "#,
            #"        exp:["#,
            #"            0:"#,
            #"              Labels:{alertname="NoSuchAlert", with space="quote\"d\ttab"}"#,
            #"              Annotations:{}"#,
            #"            ], "#,
            #"        got:[]"#,
        ].joined(separator: "\n") + "\n", 4),
        (#"fail_promql.yml"#, [
            #"  FAILED:"#,
            #"    expr: "job:up:sum", time: 1m,"#,
            #"        exp: {__name__="job:up:sum", job="api"} 2E+00"#,
            #"        got: {__name__="job:up:sum", job="api"} 1E+00"#,
            #"    expr: "up", time: 1m,"#,
            #"        exp: {__name__="up", instance="a", job="api"} 1E+00, {__name__="up", instance="b", job="api"} 0E+00, {__name__="up", instance="c", job="api"} 1E+00"#,
            #"        got: {__name__="up", instance="a", job="api"} 1E+00, {__name__="up", instance="b", job="api"} 0E+00"#,
            #"    expr: "1+", time: 0s, err: 1:3: parse error: unexpected end of input"#,
            #"    expr: "up", time: 1m30s, err: labels "up{job=}": 1:8: parse error: unexpected "}" in label set, expected string"#,
            #"    expr: "vector(time())", time: 2d,"#,
            #"        exp: {} 1E-07"#,
            #"        got: {} 1.728E+05"#,
            #"    expr: "up[1m]", time: 1m, err: rule result is not a vector or scalar"#,
            #"    expr: "\"a string\"", time: 1m, err: rule result is not a vector or scalar"#,
            #"    expr: "0/0", time: 1m,"#,
            #"        exp: {} NaN"#,
            #"        got: {} NaN"#,
        ].joined(separator: "\n") + "\n", 8),
        (#"missing_alertname.yml"#, [
            #"  FAILED:"#,
            #"an item under alert_rule_test misses required attribute alertname at eval_time 1h30m"#,
            #"an item under alert_rule_test misses required attribute alertname at eval_time 0s (in TestGroup second)"#,
        ].joined(separator: "\n") + "\n", 2),
        (#"unknown_field.yml"#, [
            #"  FAILED:"#,
            #"yaml: unmarshal errors:"#,
            #"  line 2: field evaluation_intervall not found in type main.unitTestFile"#,
            #"  line 8: field value not found in type main.series"#,
            #"  line 9: field alert_rule_tests not found in type main.testGroup"#,
            #"  line 16: cannot unmarshal !!str `1` into float64"#,
            #"  line 17: cannot unmarshal !!seq into string"#,
            #"  line 18: cannot unmarshal !!bool `yes` into float64"#,
        ].joined(separator: "\n") + "\n", 1),
        (#"rule_error.yml"#, [
            #"  FAILED:"#,
            #"    rule: flat, time: 1m30s, err: vector contains metrics with the same labelset after applying rule labels"#,
            #"    rule: Flat, time: 1m30s, err: vector contains metrics with the same labelset after applying alert labels"#,
            #"    expr: "flat", time: 0s,"#,
            #"        exp: {__name__="flat", instance="same"} 2E+00"#,
            #"        got: {__name__="flat", instance="same"} 1E+00"#,
        ].joined(separator: "\n") + "\n", 3),
        (#"bad_series.yml"#, [
            #"  FAILED:"#,
            #"1:30: parse error: unexpected identifier "foo" in series values, expected number or "stale""#,
            #"1:16: parse error: unexpected end of input in series values"#,
            #"1:8: parse error: unexpected identifier "a" in label set, expected string"#,
            #"1:10: parse error: unexpected identifier "stalex2" in series values, expected number or "stale""#,
        ].joined(separator: "\n") + "\n", 4),
        (#"order_and_glob.yml"#, [
            #"  WARNING: no file match pattern DIR/missing/*.yml"#,
            #"  FAILED:"#,
            #"group name repeated in evaluation order: alerts"#,
        ].joined(separator: "\n") + "\n", 1),
        (#"no_interval.yml"#, "", 0),
        (#"order_alerts_first.yml"#, [
            #"  FAILED:"#,
            #"    alertname: JobDegraded, time: 0s, "#,
            #"        exp:["#,
            #"            0:"#,
            #"              Labels:{alertname="JobDegraded", job="api", severity="ticket"}"#,
            #"              Annotations:{}"#,
            #"            ], "#,
            #"        got:[]"#,
        ].joined(separator: "\n") + "\n", 1),
        (#"order_recording_first.yml"#, "", 0),
    ]

    /// What promtool printed for files that need patches 02 (`$externalURL` without the
    /// externalURL function) and 03 (a refused sample is the rule's error; the text of a
    /// non-vector result) of PROPOSED-CHANGES.md.
    static let expectedAfterPatches: [(file: String, stderr: String, errors: Int)] = [
        (#"external_url.yml"#, [
            #"  FAILED:"#,
            #"    alertname: T, time: 0s, "#,
            #"        exp:[], "#,
            #"        got:["#,
            #"            0:"#,
            #"              Labels:{alertname="T", instance="a"}"#,
            #"              Annotations:{a="http://ex.com/prefix", b="<error expanding template: error executing template __alert_T: template: __alert_T:1:115: executing \"__alert_T\" at <externalURL>: error calling externalURL: runtime error: invalid memory address or nil pointer dereference>", c="prod", d="<error expanding template: error executing template __alert_T: template: __alert_T:1:115: executing \"__alert_T\" at <pathPrefix>: error calling pathPrefix: runtime error: invalid memory address or nil pointer dereference>", e=""}"#,
            #"            ]"#,
        ].joined(separator: "\n") + "\n", 1),
        (#"append_error.yml"#, [
            #"  FAILED:"#,
            #"    rule: x, time: 0s, err: duplicate sample for timestamp"#,
            #"    rule: m, time: 0s, err: rule result is not a vector or scalar"#,
        ].joined(separator: "\n") + "\n", 2),
    ]

    static func writeFiles() throws -> String {
        let dir = temporaryDirectory()
        for file in files {
            try file.text.write(toFile: dir + "/" + file.name, atomically: true, encoding: .utf8)
        }
        return dir
    }

    @Test func printsWhatPromtoolPrinted() throws {
        let dir = try Self.writeFiles()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (file, stderr, errors) in Self.expected {
            let path = dir + "/" + file
            let output = RuleTestRunner.report([path])
            #expect(output.text(of: .stderr) == stderr.replacingOccurrences(of: "DIR", with: dir), "\(file)")
            let verdict = errors == 0 ? "  SUCCESS\n" : String(repeating: "\n", count: errors)
            #expect(output.text(of: .stdout) == "Unit Testing:  \(path)\n" + verdict + "\n", "\(file)")
            #expect(output.passed == (errors == 0), "\(file)")
        }
        // Several files: each reported in turn, failed when any failed.
        let both = RuleTestRunner.report([dir + "/pass.yml", dir + "/missing_alertname.yml"])
        #expect(!both.passed)
        #expect(both.text(of: .stdout).hasPrefix("Unit Testing:  \(dir)/pass.yml\n  SUCCESS\n\nUnit Testing:  \(dir)/missing_alertname.yml\n"))
    }

    @Test
    func printsWhatPromtoolPrintedAfterPatches() throws {
        let dir = try Self.writeFiles()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (file, stderr, errors) in Self.expectedAfterPatches {
            let output = RuleTestRunner.report([dir + "/" + file])
            #expect(output.text(of: .stderr) == stderr, "\(file)")
            #expect(output.passed == (errors == 0), "\(file)")
        }
    }

    /// Omitted slots count against the limit too when values are listed one by one (found
    /// by FuzzRules: `_x100000000000` padded ten million nils, then one more value).
    @Test func listedValuesStayWithinTheLimit() {
        #expect(throws: SeriesNotationError.self) { try SeriesNotation.values("1 _x100000000000 2") }
        #expect((try? SeriesNotation.values("1 _x2 2"))?.count == 4)
    }

    @Test func readsTestFilesStrictly() throws {
        let file = try RuleTestFile.parse("""
            rule_files: [a.yml, "b/*.yml"]
            evaluation_interval: 30s
            group_eval_order: [g1, g2]
            tests:
              - interval: 1h30m
                name: t
                external_labels: {env: prod, n: 1}
                external_url: http://x
                input_series:
                  - {series: 'up{job="a"}', values: 1x3}
                alert_rule_test:
                  - eval_time: 0
                    alertname: A
                    exp_alerts:
                      - exp_labels: {severity: page, empty: }
                promql_expr_test:
                  - expr: up
                    eval_time: 8d
                    exp_samples:
                      - {labels: 'up{job="a"}', value: 0x10}
                      - {labels: '', value: 1_000}
                      - {value: -.inf}
            """, path: "t.yml")
        #expect(file.ruleFiles == ["a.yml", "b/*.yml"] && file.evaluationInterval == 30_000 && file.groupEvalOrder == ["g1", "g2"])
        let t = try #require(file.tests.first)
        #expect(t.interval == 5_400_000 && t.name == "t" && t.externalURL == "http://x")
        #expect(Self.pairs(t.externalLabels) == ["env=prod", "n=1"])
        #expect(t.inputSeries.first?.values == "1x3")
        #expect(t.alertTests.first?.evalTime == 0 && t.alertTests.first?.expAlerts.first.map { Self.pairs($0.labels) } == ["severity=page", "empty="])
        #expect(t.promqlTests.first?.evalTime == Int64(8 * 86_400_000))
        #expect(t.promqlTests.first?.expSamples.map(\.value) == [16, 1000, -.infinity])

        for (text, expected) in [
            ("tests:\n  - interval: 5\n", #"not a valid duration string: "5""#),
            ("tests:\n  - interval: 300y\n", "duration out of range"),
            ("evaluation_interval: ''\n", "empty duration string"),
            ("foo: 1\ntests:\n  - interval: 1h1h\n", #"not a valid duration string: "1h1h""#),
            ("tests: [a]\nrule_files: {a: b}\ngroup_eval_order: 1\n",
             "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `a` into main.testGroup\n  line 2: cannot unmarshal !!map into []string\n  line 3: cannot unmarshal !!int `1` into []string"),
            ("- a\n", "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into main.unitTestFile"),
            ("tests:\n  - interval: 1m\n    external_labels: [a]\n    input_series: {a: b}\n",
             "yaml: unmarshal errors:\n  line 3: cannot unmarshal !!seq into map[string]string\n  line 4: cannot unmarshal !!map into []main.series"),
            ("rule_files: [a\ntests:\n", "yaml: line 1: did not find expected ',' or ']'"),
            ("tests:\n  - interval: 1m\n   foo: bar\n", "yaml: line 2: did not find expected '-' indicator"),
            ("tests:\n\t- a\n", "yaml: line 2: found character that cannot start any token"),
            ("a: b: c\n", "yaml: mapping values are not allowed in this context"),
        ] {
            do {
                _ = try RuleTestFile.parse(text, path: "t.yml")
                Issue.record("no error for \(text)")
            } catch {
                #expect(error.description == expected, "\(text)")
            }
        }
    }

    @Test func formatsDurationsAsGo() {
        #expect(ModelDuration.format(0) == "0s" && ModelDuration.format(210_000) == "3m30s")
        #expect(ModelDuration.format(8 * 86_400_000) == "8d" && ModelDuration.format(14 * 86_400_000) == "2w")
        #expect(ModelDuration.format(366 * 86_400_000) == "366d" && ModelDuration.format(365 * 86_400_000) == "1y")
        #expect(ModelDuration.format(3_661_000) == "1h1m1s" && ModelDuration.format(1500) == "1s500ms")
        #expect(ModelDuration.goFormat(0) == "0s" && ModelDuration.goFormat(60_000) == "1m0s")
        #expect(ModelDuration.goFormat(90_000) == "1m30s" && ModelDuration.goFormat(3_600_000) == "1h0m0s")
        #expect(ModelDuration.goFormat(500) == "500ms" && ModelDuration.goFormat(61_500) == "1m1.5s")
    }

    @Test func resolvesPathsAsGo() throws {
        #expect(GoPath.dir("t.yml") == "." && GoPath.dir("/a/b/t.yml") == "/a/b" && GoPath.dir("a//b/") == "a/b")
        #expect(GoPath.join(".", "rules.yml") == "rules.yml" && GoPath.join("a/b", "../c/./d.yml") == "a/c/d.yml")
        #expect(GoPath.clean("../../x") == "../../x" && GoPath.clean("/../x") == "/x" && GoPath.clean("") == ".")
        #expect(try GoPath.match("*.yml", ".hidden.yml") && GoPath.match("r?les.yml", "rules.yml"))
        #expect(try GoPath.match("[a-c]*", "b.yml") && !GoPath.match("[^a-c]*", "b.yml") && !GoPath.match("*", "a/b"))
        #expect(try GoPath.match("\\*x", "*x") && !GoPath.match("a*b", "a/b"))
        #expect(throws: GoPath.BadPattern.self) { try GoPath.match("[", "a") }
        #expect(throws: GoPath.BadPattern.self) { try GoPath.match("a[", "b") }

        let dir = try Self.writeFiles()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rules = ["append_rules.yml", "bad_rules.yml", "broken_rules.yml", "rules.yml", "url_rules.yml"]
        #expect(try GoPath.glob(dir + "/*rules.yml") == rules.map { dir + "/" + $0 })
        #expect(try GoPath.glob(dir + "/[bo]*_*.yml").prefix(2) == [dir + "/bad_eval.yml", dir + "/bad_rules.yml"])
        #expect(try GoPath.glob(dir + "/rules.yml") == [dir + "/rules.yml"])
        #expect(try GoPath.glob(dir + "/nothing/*.yml").isEmpty && GoPath.glob(dir + "/none.yml").isEmpty)
    }

    /// Files on which only promtool's verdict is compared: the wording of rule file errors is
    /// RuleFile's, and the others need the proposed patches.
    static let statusOnly: Set<String> = ["bad_rules.yml", "external_url.yml", "append_error.yml"]

    /// Debian's promtool (Prometheus 2.42) on the same files: the same verdict for every file,
    /// and the same output, byte for byte, for those checked above.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool")))
    func promtoolAgrees() async throws {
        let dir = try Self.writeFiles()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let exact = Set(Self.expected.map(\.file))
        for file in Self.files.map(\.name) where exact.contains(file) || Self.statusOnly.contains(file) {
            let path = dir + "/" + file
            let promtool = try await runProcess("/usr/bin/promtool", ["test", "rules", path])
            let ours = RuleTestRunner.report([path])
            #expect((promtool.status == 0) == ours.passed, "\(file)")
            if exact.contains(file) {
                #expect(ours.text(of: .stderr) == promtool.stderr, "\(file)")
                #expect(ours.text(of: .stdout) == promtool.stdout, "\(file)")
            }
        }
    }
}
