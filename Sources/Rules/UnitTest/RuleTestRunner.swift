import Foundation
import PromQL
import Storage
import TSDB

/// What `promtool test rules` prints for its files, in order: stdout and stderr chunks, and
/// whether every file passed.
public struct RuleTestOutput: Sendable {
    public enum Stream: Sendable, Equatable {
        case stdout, stderr
    }

    public struct Chunk: Sendable {
        public var stream: Stream
        public var text: String
    }

    public private(set) var chunks: [Chunk] = []
    public private(set) var passed = true

    public init() {}

    mutating func write(_ stream: Stream, _ text: String) {
        chunks.append(Chunk(stream: stream, text: text))
    }

    mutating func fail() {
        passed = false
    }

    /// Everything written to one stream.
    public func text(of stream: Stream) -> String {
        chunks.filter { $0.stream == stream }.map(\.text).joined()
    }
}

/// Runs rule unit test files as `promtool test rules` (Prometheus 2.42) runs them.
///
/// For each test group: the input series are loaded lazily into a fresh TSDB head; the rule
/// files' groups (in `group_eval_order`) are all evaluated at 0, the evaluation interval, twice
/// that... up to the latest `eval_time` of the group's tests, each time after appending the
/// input samples up to then; an alert test is checked after the evaluation at or just before
/// its `eval_time` (the firing alerts of every rule of that name, exactly as expected, in any
/// order); the expression tests run after the last evaluation, as instant queries, with exact
/// float equality. Alerting rules write `ALERTS` from their first evaluation; there is no
/// for-state restore and no notification. A rule evaluation error ends the test group.
public enum RuleTestRunner {
    /// What promtool prints for `paths`: `Unit Testing:  PATH` on stdout, warnings on stderr,
    /// then `  SUCCESS` (stdout), or `  FAILED:` and each error on stderr with an empty line
    /// per error on stdout; an empty line after each file.
    public static func report(_ paths: [String]) -> RuleTestOutput {
        var out = RuleTestOutput()
        for path in paths {
            out.write(.stdout, "Unit Testing:  \(path)\n")
            let result = run(path)
            for warning in result.warnings { out.write(.stderr, warning + "\n") }
            if result.errors.isEmpty {
                out.write(.stdout, "  SUCCESS\n")
            } else {
                out.fail()
                out.write(.stderr, "  FAILED:\n")
                for error in result.errors {
                    out.write(.stderr, error + "\n")
                    out.write(.stdout, "\n")
                }
            }
            out.write(.stdout, "\n")
        }
        return out
    }

    /// One test file: the warnings met (rule file patterns that match nothing) and the errors
    /// of its test groups, in promtool's words (none: the file passed).
    public static func run(_ path: String) -> (warnings: [String], errors: [String]) {
        let file: RuleTestFile
        do {
            file = try RuleTestFile.load(path)
        } catch {
            return ([], [error.description])
        }
        // Rule files relative to the test file's directory, globbed.
        var warnings: [String] = []
        var ruleFiles: [String] = []
        let base = GoPath.dir(path)
        for name in file.ruleFiles {
            let pattern = !name.isEmpty && !name.hasPrefix("/") ? GoPath.join(base, name) : name
            let matches: [String]
            do {
                matches = try GoPath.glob(pattern)
            } catch {
                return (warnings, [error.description])
            }
            if matches.isEmpty { warnings.append("  WARNING: no file match pattern \(pattern)") }
            ruleFiles += matches
        }
        let evaluationInterval = file.evaluationInterval == 0 ? 60_000 : file.evaluationInterval
        var order: [String: Int] = [:]
        for (i, name) in file.groupEvalOrder.enumerated() {
            guard order[name] == nil else { return (warnings, ["group name repeated in evaluation order: \(name)"]) }
            order[name] = i
        }
        // promtool reads the rule files again for each test group; the result is the same.
        var loaded: [String: Result<RuleFile, RuleFileError>] = [:]
        var errors: [String] = []
        for test in file.tests {
            errors += runGroup(test, evaluationInterval: evaluationInterval, order: order, ruleFiles: ruleFiles,
                               loaded: &loaded)
        }
        return (warnings, errors)
    }

    // MARK: One test group

    static func runGroup(_ test: RuleTestGroup, evaluationInterval: Int64, order: [String: Int], ruleFiles: [String],
                         loaded: inout [String: Result<RuleFile, RuleFileError>]) -> [String] {
        let input: [InputSeriesData]
        do {
            input = try loadInput(test)
        } catch {
            return [error.description]
        }
        // The groups of every file (a file named twice counts once), ordered by
        // group_eval_order; unlisted groups count as its first.
        var groups: [(key: String, group: RuleGroup)] = []
        for path in ruleFiles {
            let result: Result<RuleFile, RuleFileError>
            if let cached = loaded[path] {
                result = cached
            } else {
                do {
                    let file = try RuleFile.load(path)
                    result = .success(file)
                } catch {
                    result = .failure(error)
                }
                loaded[path] = result
            }
            switch result {
            case .failure(let error):
                return error.problems.map { "\(error.path): \($0)" }
            case .success(let file):
                for group in file.groups {
                    let key = path + ";" + group.name
                    if let i = groups.firstIndex(where: { $0.key == key }) {
                        groups[i].group = group
                    } else {
                        groups.append((key, group))
                    }
                }
            }
        }
        let ordered = groups.enumerated().sorted { a, b in
            let x = order[a.element.group.name] ?? 0, y = order[b.element.group.name] ?? 0
            return x != y ? x < y : a.offset < b.offset
        }.map { $0.element.group }

        for alertTest in test.alertTests where alertTest.alertname.isEmpty {
            let suffix = test.name.isEmpty ? "" : " (in TestGroup \(test.name))"
            return ["an item under alert_rule_test misses required attribute alertname at eval_time \(ModelDuration.format(alertTest.evalTime))\(suffix)"]
        }

        var headOptions = HeadOptions(chunkSize: 120, stripeCount: 16)
        // Test times start at 1970: none is refused as being in the future.
        headOptions.maxFuture = Int64.max
        let head = Head(options: headOptions)
        var engineOptions = EngineOptions()
        engineOptions.maxSamples = 10_000
        engineOptions.timeout = .seconds(100)
        engineOptions.lookbackDelta = 5 * 60_000
        engineOptions.defaultSubqueryStep = evaluationInterval
        let engine = Engine(options: engineOptions)
        var evaluators = ordered.map { GroupEvaluator(group: $0, restoring: false) }
        // `$externalURL` is the test's external_url; the functions externalURL and pathPrefix fail.
        let context = AlertContext(externalLabels: Labels(test.externalLabels.map { Label($0.name, $0.value) }),
                                   externalURL: test.externalURL.isEmpty ? nil : test.externalURL, urlFunctions: false)

        let maxTime = (test.alertTests.map(\.evalTime) + test.promqlTests.map(\.evalTime)).max() ?? 0
        let alertTimes = Set(test.alertTests.map(\.evalTime)).sorted()
        var nextAlertTime = 0
        var feeder = InputFeeder(series: input)
        var errors: [String] = []
        var ts: Int64 = 0
        while ts <= maxTime {
            if let failure = feeder.append(upTo: ts, to: head) {
                // promtool reports the store's refusal and skips this evaluation.
                errors.append(failure)
            } else {
                var evaluationErrors: [String] = []
                for k in evaluators.indices {
                    evaluators[k].evaluate(at: ts, engine: engine, storage: head, store: head, context: context)
                    for (i, rule) in evaluators[k].group.rules.enumerated() {
                        if let message = evaluators[k].health[i].lastError {
                            evaluationErrors.append("    rule: \(rule.name), time: \(ModelDuration.goFormat(ts)), err: \(message)")
                        }
                    }
                }
                errors += evaluationErrors
                if !evaluationErrors.isEmpty { return errors }
            }
            let (next, overflow) = ts.addingReportingOverflow(evaluationInterval)
            // The alert tests whose eval_time is from this evaluation to the next.
            while nextAlertTime < alertTimes.count, ts <= alertTimes[nextAlertTime],
                  overflow || alertTimes[nextAlertTime] < next {
                let t = alertTimes[nextAlertTime]
                errors += checkAlerts(test.alertTests.filter { $0.evalTime == t }, evaluators: evaluators, testName: test.name)
                nextAlertTime += 1
            }
            if overflow { break }
            ts = next
        }
        for promqlTest in test.promqlTests {
            if let error = checkExpression(promqlTest, engine: engine, storage: head) { errors.append(error) }
        }
        return errors
    }

    // MARK: Input

    /// An input series ready to append: its labels (nil with the store's refusal when it
    /// cannot be stored) and its samples in time order.
    struct InputSeriesData {
        var labels: Labels?
        var problem: String?
        var samples: [(t: Int64, v: Double)]
    }

    /// The test group's series, parsed as promtool's `load` command parses them: the lines of
    /// `load INTERVAL` and `  SERIES VALUES` for each, trimmed; an empty line (or one starting
    /// with `#`) ends them; a series defined again replaces the earlier one.
    static func loadInput(_ test: RuleTestGroup) throws(SeriesNotationError) -> [InputSeriesData] {
        var text = "load \(ModelDuration.format(test.interval))\n"
        for s in test.inputSeries { text += "  \(s.series) \(s.values)\n" }
        let lines = splitLines(text).dropFirst()
        var budget = SeriesNotation.maxSamples
        var out: [InputSeriesData] = []
        var index: [String: Int] = [:]
        for raw in lines {
            let line = trimmed(raw)
            if line.isEmpty || line.hasPrefix("#") { break }
            let description = try SeriesNotation.parseSeries(line, budget: &budget)
            let data = inputData(description, interval: test.interval)
            let key = description.labels.map { $0.name + "\u{0}" + $0.value }.joined(separator: "\u{1}")
            if let i = index[key] {
                out[i] = data
            } else {
                index[key] = out.count
                out.append(data)
            }
        }
        return out
    }

    /// Go's strings.Split(s, "\n").
    static func splitLines(_ s: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            if u == "\n" {
                lines.append(String(current))
                current = String.UnicodeScalarView()
            } else {
                current.append(u)
            }
        }
        lines.append(String(current))
        return lines
    }

    /// Go's strings.TrimSpace.
    static func trimmed(_ s: String) -> String {
        let scalars = Array(s.unicodeScalars)
        var start = 0, end = scalars.count
        while start < end && scalars[start].properties.isWhitespace { start += 1 }
        while end > start && scalars[end - 1].properties.isWhitespace { end -= 1 }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[start..<end])
        return String(view)
    }

    /// Samples at slot × interval (with a zero interval all at 0, where the first wins, as
    /// the TSDB keeps it); labels as the TSDB takes them, or its refusal.
    static func inputData(_ description: SeriesDescription, interval: Int64) -> InputSeriesData {
        var samples: [(t: Int64, v: Double)] = []
        samples.reserveCapacity(description.samples.count)
        for s in description.samples {
            let (t, overflow) = s.slot.multipliedReportingOverflow(by: interval)
            // Later than any evaluation (eval_time is at most ~292 years).
            if overflow || t > PrometheusDuration.maxMilliseconds { break }
            if let last = samples.last, last.t >= t { continue }
            samples.append((t, s.value))
        }
        let pairs = description.labels
        if pairs.isEmpty { return InputSeriesData(labels: nil, problem: "empty labelset: invalid sample", samples: samples) }
        for i in pairs.indices.dropFirst() where GoText.equal(pairs[i].name, pairs[i - 1].name) {
            return InputSeriesData(labels: nil, problem: "label name \"\(pairs[i].name)\" is not unique: invalid sample", samples: samples)
        }
        let labels = Labels(pairs.map { Label($0.name, $0.value) })
        if labels.isEmpty { return InputSeriesData(labels: nil, problem: "empty labelset: invalid sample", samples: samples) }
        return InputSeriesData(labels: labels, problem: nil, samples: samples)
    }

    /// promtool's lazy loader: each call appends the samples due up to a time.
    struct InputFeeder {
        var series: [InputSeriesData]
        var next: [Int]

        init(series: [InputSeriesData]) {
            self.series = series
            next = Array(repeating: 0, count: series.count)
        }

        /// Appends every sample at or before `ts` not appended yet; the store's refusal, if
        /// any (a series it cannot take refuses as soon as one of its samples is due).
        mutating func append(upTo ts: Int64, to head: Head) -> String? {
            let app = head.appender()
            var failure: String?
            for k in series.indices {
                if let problem = series[k].problem {
                    if failure == nil, let first = series[k].samples.first, first.t <= ts { failure = problem }
                    continue
                }
                guard let labels = series[k].labels else { continue }
                while next[k] < series[k].samples.count && series[k].samples[next[k]].t <= ts {
                    let s = series[k].samples[next[k]]
                    next[k] += 1
                    do {
                        try app.append(labels, s.t, s.v)
                    } catch {
                        if failure == nil { failure = error.description }
                    }
                }
            }
            do {
                try app.commit()
            } catch {
                if failure == nil { failure = "\(error)" }
            }
            return failure
        }
    }

    // MARK: Alerts

    /// An alert's labels and annotations, each sorted by name.
    struct LabelsAndAnnotations {
        var labels: [(name: String, value: String)]
        var annotations: [(name: String, value: String)]

        var text: String {
            "Labels:" + goLabelsText(labels) + "\nAnnotations:" + goLabelsText(annotations)
        }
    }

    /// The alert tests at one eval_time against the firing alerts of the rules they name.
    static func checkAlerts(_ tests: [AlertTestCase], evaluators: [GroupEvaluator], testName: String) -> [String] {
        let names = Set(tests.map(\.alertname))
        var got: [String: [LabelsAndAnnotations]] = [:]
        for evaluator in evaluators {
            for (i, rule) in evaluator.group.rules.enumerated() {
                guard case .alerting(let name) = rule.kind, names.contains(name) else { continue }
                for alert in evaluator.alerts(of: i) where alert.state == .firing && alert.resolvedAt == nil {
                    let labels = alert.labels.map { (name: $0.name, value: $0.value) }
                    got[name, default: []].append(LabelsAndAnnotations(labels: SeriesParser.sortedByName(labels),
                                                                       annotations: SeriesParser.sortedByName(alert.annotations)))
                }
            }
        }
        var errors: [String] = []
        for test in tests {
            let gotAlerts = sortedAlerts(got[test.alertname] ?? [])
            var expected: [LabelsAndAnnotations] = []
            for e in test.expAlerts {
                var labels = e.labels.filter { !GoText.equal($0.name, "alertname") }
                labels.append((name: "alertname", value: test.alertname))
                expected.append(LabelsAndAnnotations(labels: SeriesParser.sortedByName(labels),
                                                     annotations: SeriesParser.sortedByName(e.annotations)))
            }
            expected = sortedAlerts(expected)
            if !sameAlerts(expected, gotAlerts) {
                let name = testName.isEmpty ? "" : "    name: \(testName),\n"
                let exp = indentLines(alertsText(expected), "            ")
                let gotText = indentLines(alertsText(gotAlerts), "            ")
                errors.append("\(name)    alertname: \(test.alertname), time: \(ModelDuration.format(test.evalTime)), \n        exp:\(exp), \n        got:\(gotText)")
            }
        }
        return errors
    }

    static func sortedAlerts(_ alerts: [LabelsAndAnnotations]) -> [LabelsAndAnnotations] {
        alerts.sorted { a, b in
            let c = compareLabels(a.labels, b.labels)
            if c != 0 { return c < 0 }
            return compareLabels(a.annotations, b.annotations) < 0
        }
    }

    static func sameAlerts(_ a: [LabelsAndAnnotations], _ b: [LabelsAndAnnotations]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { sameLabels($0.labels, $1.labels) && sameLabels($0.annotations, $1.annotations) }
    }

    /// labelsAndAnnotations.String: `[]`, or the items numbered, each on indented lines.
    static func alertsText(_ alerts: [LabelsAndAnnotations]) -> String {
        guard let first = alerts.first else { return "[]" }
        var s = "[\n0:" + indentLines("\n" + first.text, "  ")
        for (i, alert) in alerts.dropFirst().enumerated() {
            s += ",\n\(i + 1):" + indentLines("\n" + alert.text, "  ")
        }
        return s + "\n]"
    }

    /// promtool's indentLines: `indent` after every line break.
    static func indentLines(_ lines: String, _ indent: String) -> String {
        var out = ""
        for u in lines.unicodeScalars {
            out.unicodeScalars.append(u)
            if u == "\n" { out += indent }
        }
        return out
    }

    // MARK: Expressions

    /// A sample of an expression test, expected or got.
    struct ParsedSample {
        var labels: [(name: String, value: String)]
        var value: Double

        var text: String {
            goLabelsText(labels) + " " + GoFormat.strconvFloat(value, "E", -1)
        }
    }

    /// One expression test after the evaluations: nil when it passes, else promtool's error.
    static func checkExpression(_ test: PromQLTestCase, engine: Engine, storage: Head) -> String? {
        let prefix = "    expr: \(GoFormat.quote(test.expr)), time: \(ModelDuration.format(test.evalTime))"
        let value: QueryValue
        do {
            value = try engine.instantQuery(test.expr, at: test.evalTime, on: storage)
        } catch {
            return "\(prefix), err: \(error.description)"
        }
        var got: [ParsedSample]
        switch value {
        case .vector(let samples):
            got = samples.map { s in ParsedSample(labels: s.labels.map { (name: $0.name, value: $0.value) }, value: s.v) }
        case .scalar(_, let v):
            got = [ParsedSample(labels: [], value: v)]
        default:
            return "\(prefix), err: rule result is not a vector or scalar"
        }
        var expected: [ParsedSample] = []
        for sample in test.expSamples {
            do {
                let labels = try SeriesNotation.parseMetric(sample.labels)
                expected.append(ParsedSample(labels: labels, value: sample.value))
            } catch {
                return "\(prefix), err: labels \(GoFormat.quote(sample.labels)): \(error.description)"
            }
        }
        expected = sortedSamples(expected)
        got = sortedSamples(got)
        let same = expected.count == got.count
            && zip(expected, got).allSatisfy { sameLabels($0.labels, $1.labels) && $0.value == $1.value }
        if same { return nil }
        return "\(prefix),\n        exp: \(samplesText(expected))\n        got: \(samplesText(got))"
    }

    static func sortedSamples(_ samples: [ParsedSample]) -> [ParsedSample] {
        samples.enumerated().sorted { a, b in
            let c = compareLabels(a.element.labels, b.element.labels)
            return c != 0 ? c < 0 : a.offset < b.offset
        }.map { $0.element }
    }

    /// parsedSamplesString: `nil`, or the samples joined by commas.
    static func samplesText(_ samples: [ParsedSample]) -> String {
        samples.isEmpty ? "nil" : samples.map(\.text).joined(separator: ", ")
    }

    // MARK: Labels as Go compares and prints them

    /// labels.Compare: pair by pair, name then value, bytewise; a prefix sorts first.
    static func compareLabels(_ a: [(name: String, value: String)], _ b: [(name: String, value: String)]) -> Int {
        for (x, y) in zip(a, b) {
            if !GoText.equal(x.name, y.name) { return GoText.less(x.name, y.name) ? -1 : 1 }
            if !GoText.equal(x.value, y.value) { return GoText.less(x.value, y.value) ? -1 : 1 }
        }
        return a.count - b.count
    }

    static func sameLabels(_ a: [(name: String, value: String)], _ b: [(name: String, value: String)]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { GoText.equal($0.name, $1.name) && GoText.equal($0.value, $1.value) }
    }
}

/// labels.Labels.String: `{a="b", c="d"}`, every label inside the braces, values quoted as
/// Go quotes them.
func goLabelsText(_ labels: [(name: String, value: String)]) -> String {
    "{" + labels.map { "\($0.name)=\(GoFormat.quote($0.value))" }.joined(separator: ", ") + "}"
}
