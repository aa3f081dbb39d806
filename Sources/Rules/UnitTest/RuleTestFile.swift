import Foundation
import Storage
import Yams

/// A rule unit test file, promtool's format (`promtool test rules`): rule files, the
/// evaluation interval and group order, and test groups of input series with alert and
/// expression tests.
///
/// Decoded as promtool decodes it (gopkg.in/yaml.v2, UnmarshalStrict): unknown and repeated
/// fields, and values of the wrong type, are collected as `yaml: unmarshal errors:` with
/// their lines, in document order; a malformed duration stops decoding with its own error.
public struct RuleTestFile: Sendable {
    public var path: String
    /// As written (promtool resolves them against the test file's directory and globs them).
    public var ruleFiles: [String] = []
    /// Milliseconds; 0 when not set (then one minute).
    public var evaluationInterval: Int64 = 0
    public var groupEvalOrder: [String] = []
    public var tests: [RuleTestGroup] = []

    public init(path: String) {
        self.path = path
    }

    /// Reads and decodes `path`.
    public static func load(_ path: String) throws(RuleTestFileError) -> RuleTestFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RuleTestFileError("open \(path): cannot read the file")
        }
        return try parse(String(decoding: data, as: UTF8.self), path: path)
    }

    /// Decodes test file text (`path` is kept for resolving its rule files).
    public static func parse(_ text: String, path: String) throws(RuleTestFileError) -> RuleTestFile {
        let root: Yams.Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw RuleTestFileError(YAMLv2.message(error))
        } catch {
            throw RuleTestFileError("yaml: \(error)")
        }
        var decoder = RuleTestFileDecoder()
        let file = decoder.file(root, path: path)
        if let fatal = decoder.fatal { throw RuleTestFileError(fatal) }
        if !decoder.typeErrors.isEmpty {
            throw RuleTestFileError("yaml: unmarshal errors:\n  " + decoder.typeErrors.joined(separator: "\n  "))
        }
        return file
    }
}

/// One test group: input series sampled every `interval`, alert tests and expression tests.
public struct RuleTestGroup: Sendable {
    /// Milliseconds between the input samples (0 when not set: all at time 0).
    public var interval: Int64 = 0
    public var inputSeries: [InputSeries] = []
    public var alertTests: [AlertTestCase] = []
    public var promqlTests: [PromQLTestCase] = []
    /// `$externalLabels` in templates (not added to the alerts' labels).
    public var externalLabels: [(name: String, value: String)] = []
    /// `$externalURL` in templates.
    public var externalURL = ""
    /// Only used in messages.
    public var name = ""

    public init() {}
}

/// `series` in the series notation, `values` in the values notation.
public struct InputSeries: Sendable {
    public var series = ""
    public var values = ""

    public init(series: String = "", values: String = "") {
        self.series = series
        self.values = values
    }
}

/// The firing alerts of `alertname` expected at `evalTime` (milliseconds).
public struct AlertTestCase: Sendable {
    public var evalTime: Int64 = 0
    public var alertname = ""
    public var expAlerts: [ExpectedAlert] = []

    public init() {}
}

/// An expected alert: its labels without `alertname`, and its annotations.
public struct ExpectedAlert: Sendable {
    public var labels: [(name: String, value: String)] = []
    public var annotations: [(name: String, value: String)] = []

    public init() {}
}

/// The samples expected from `expr` evaluated at `evalTime` (milliseconds).
public struct PromQLTestCase: Sendable {
    public var expr = ""
    public var evalTime: Int64 = 0
    public var expSamples: [ExpectedSample] = []

    public init() {}
}

/// An expected sample: its labels in the series notation (`up{job="a"}`, `{}` or empty for
/// none) and its value.
public struct ExpectedSample: Sendable {
    public var labels = ""
    public var value: Double = 0

    public init() {}
}

/// Why a test file could not be read or decoded, as promtool words it.
public struct RuleTestFileError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Walks the YAML tree as yaml.v2's strict decoder walks it into promtool's structs.
struct RuleTestFileDecoder {
    /// yaml.v2's collected type errors (`line N: ...`).
    var typeErrors: [String] = []
    /// An error that stops decoding (a duration that does not parse).
    var fatal: String?

    private enum Field {
        case value(String, Yams.Node)
        case problem(String)
    }

    mutating func file(_ root: Yams.Node?, path: String) -> RuleTestFile {
        var file = RuleTestFile(path: path)
        guard let root else { return file }
        for field in fields(root, type: "main.unitTestFile", names: ["rule_files", "evaluation_interval", "group_eval_order", "tests"]) {
            guard fatal == nil else { break }
            switch field {
            case .problem(let p): typeErrors.append(p)
            case .value("rule_files", let n): file.ruleFiles = strings(n)
            case .value("evaluation_interval", let n): file.evaluationInterval = duration(n)
            case .value("group_eval_order", let n): file.groupEvalOrder = strings(n)
            case .value(_, let n): file.tests = list(n, type: "[]main.testGroup") { d, item in d.testGroup(item) }
            }
        }
        return file
    }

    private mutating func testGroup(_ node: Yams.Node) -> RuleTestGroup {
        var group = RuleTestGroup()
        let names = ["interval", "input_series", "alert_rule_test", "promql_expr_test", "external_labels", "external_url", "name"]
        for field in fields(node, type: "main.testGroup", names: names) {
            guard fatal == nil else { break }
            switch field {
            case .problem(let p): typeErrors.append(p)
            case .value("interval", let n): group.interval = duration(n)
            case .value("input_series", let n): group.inputSeries = list(n, type: "[]main.series") { d, item in d.series(item) }
            case .value("alert_rule_test", let n):
                group.alertTests = list(n, type: "[]main.alertTestCase") { d, item in d.alertTest(item) }
            case .value("promql_expr_test", let n):
                group.promqlTests = list(n, type: "[]main.promqlTestCase") { d, item in d.promqlTest(item) }
            case .value("external_labels", let n): group.externalLabels = stringMap(n)
            case .value("external_url", let n): group.externalURL = string(n)
            case .value(_, let n): group.name = string(n)
            }
        }
        return group
    }

    private mutating func series(_ node: Yams.Node) -> InputSeries {
        var series = InputSeries()
        for field in fields(node, type: "main.series", names: ["series", "values"]) {
            guard fatal == nil else { break }
            switch field {
            case .problem(let p): typeErrors.append(p)
            case .value("series", let n): series.series = string(n)
            case .value(_, let n): series.values = string(n)
            }
        }
        return series
    }

    private mutating func alertTest(_ node: Yams.Node) -> AlertTestCase {
        var test = AlertTestCase()
        for field in fields(node, type: "main.alertTestCase", names: ["eval_time", "alertname", "exp_alerts"]) {
            guard fatal == nil else { break }
            switch field {
            case .problem(let p): typeErrors.append(p)
            case .value("eval_time", let n): test.evalTime = duration(n)
            case .value("alertname", let n): test.alertname = string(n)
            case .value(_, let n): test.expAlerts = list(n, type: "[]main.alert") { d, item in d.expectedAlert(item) }
            }
        }
        return test
    }

    private mutating func expectedAlert(_ node: Yams.Node) -> ExpectedAlert {
        var alert = ExpectedAlert()
        for field in fields(node, type: "main.alert", names: ["exp_labels", "exp_annotations"]) {
            guard fatal == nil else { break }
            switch field {
            case .problem(let p): typeErrors.append(p)
            case .value("exp_labels", let n): alert.labels = stringMap(n)
            case .value(_, let n): alert.annotations = stringMap(n)
            }
        }
        return alert
    }

    private mutating func promqlTest(_ node: Yams.Node) -> PromQLTestCase {
        var test = PromQLTestCase()
        for field in fields(node, type: "main.promqlTestCase", names: ["expr", "eval_time", "exp_samples"]) {
            guard fatal == nil else { break }
            switch field {
            case .problem(let p): typeErrors.append(p)
            case .value("expr", let n): test.expr = string(n)
            case .value("eval_time", let n): test.evalTime = duration(n)
            case .value(_, let n): test.expSamples = list(n, type: "[]main.sample") { d, item in d.sample(item) }
            }
        }
        return test
    }

    private mutating func sample(_ node: Yams.Node) -> ExpectedSample {
        var sample = ExpectedSample()
        for field in fields(node, type: "main.sample", names: ["labels", "value"]) {
            guard fatal == nil else { break }
            switch field {
            case .problem(let p): typeErrors.append(p)
            case .value("labels", let n): sample.labels = string(n)
            case .value(_, let n): sample.value = float(n)
            }
        }
        return sample
    }

    // MARK: yaml.v2's decoding of each Go type

    /// A struct: its known fields in document order, unknown or repeated ones as problems
    /// in their place. A null is the zero value; another scalar or a sequence is a type error.
    private mutating func fields(_ node: Yams.Node, type: String, names: [String]) -> [Field] {
        if YAMLv2.isNull(node) { return [] }
        guard let mapping = node.mapping else {
            typeError(node, into: type)
            return []
        }
        var out: [Field] = []
        var seen = Set<String>()
        for (key, value) in mapping {
            let line = key.mark?.line ?? 0
            guard let scalar = key.scalar else {
                out.append(.problem(YAMLv2.typeError(key, into: "string")))
                continue
            }
            let name = YAMLv2.isNull(key) ? "" : scalar.string
            guard names.contains(name) else {
                out.append(.problem("line \(line): field \(name) not found in type \(type)"))
                continue
            }
            guard seen.insert(name).inserted else {
                out.append(.problem("line \(line): field \(name) already set in type \(type)"))
                continue
            }
            out.append(.value(name, value))
        }
        return out
    }

    /// A slice: each item decoded; a null is empty, anything but a sequence a type error.
    private mutating func list<T>(_ node: Yams.Node, type: String,
                                  _ item: (inout RuleTestFileDecoder, Yams.Node) -> T) -> [T] {
        if YAMLv2.isNull(node) { return [] }
        guard let sequence = node.sequence else {
            typeError(node, into: type)
            return []
        }
        var out: [T] = []
        for element in sequence {
            guard fatal == nil else { break }
            out.append(item(&self, element))
        }
        return out
    }

    /// A string: any scalar's text (a null is empty).
    private mutating func string(_ node: Yams.Node) -> String {
        if YAMLv2.isNull(node) { return "" }
        guard let scalar = node.scalar else {
            typeError(node, into: "string")
            return ""
        }
        return scalar.string
    }

    /// A []string.
    private mutating func strings(_ node: Yams.Node) -> [String] {
        list(node, type: "[]string") { d, item in d.string(item) }
    }

    /// A map[string]string (or labels.Labels, decoded through one), in document order.
    private mutating func stringMap(_ node: Yams.Node) -> [(name: String, value: String)] {
        if YAMLv2.isNull(node) { return [] }
        guard let mapping = node.mapping else {
            typeError(node, into: "map[string]string")
            return []
        }
        var out: [(name: String, value: String)] = []
        for (key, value) in mapping {
            let name = string(key), text = string(value)
            // A Go map keeps the last value of a repeated key.
            if let i = out.firstIndex(where: { GoText.equal($0.name, name) }) { out.remove(at: i) }
            out.append((name, text))
        }
        return out
    }

    /// A float64: a YAML int or float (yaml.v2's resolution); a null is 0.
    private mutating func float(_ node: Yams.Node) -> Double {
        if YAMLv2.isNull(node) { return 0 }
        guard let scalar = node.scalar else {
            typeError(node, into: "float64")
            return 0
        }
        if scalar.style == .plain, let v = YAMLv2.resolvePlain(scalar.string).number { return v }
        typeError(node, into: "float64")
        return 0
    }

    /// A model.Duration: a null is 0; the text must parse (else decoding stops).
    private mutating func duration(_ node: Yams.Node) -> Int64 {
        if YAMLv2.isNull(node) { return 0 }
        guard let scalar = node.scalar else {
            typeError(node, into: "string")
            return 0
        }
        switch ModelDuration.parse(scalar.string) {
        case .success(let ms): return ms
        case .failure(let e):
            fatal = e.message
            return 0
        }
    }

    private mutating func typeError(_ node: Yams.Node, into type: String) {
        typeErrors.append(YAMLv2.typeError(node, into: type))
    }
}

/// What yaml.v2 says and resolves where it differs from Yams.
enum YAMLv2 {
    /// A plain null (`~`, `null`, nothing), which yaml.v2 decodes as the zero value.
    static func isNull(_ node: Yams.Node) -> Bool {
        guard let scalar = node.scalar, scalar.style == .plain else { return false }
        switch scalar.string {
        case "", "~", "null", "Null", "NULL": return true
        default: return false
        }
    }

    /// `line N: cannot unmarshal !!TAG `VALUE` into TYPE`.
    static func typeError(_ node: Yams.Node, into type: String) -> String {
        let line = node.mark?.line ?? 0
        guard let scalar = node.scalar else {
            return "line \(line): cannot unmarshal \(node.mapping != nil ? "!!map" : "!!seq") into \(type)"
        }
        let tag = scalar.style == .plain ? resolvePlain(scalar.string).tag : "!!str"
        let value = scalar.string
        let shown = value.utf8.count > 10 ? String(decoding: Array(value.utf8.prefix(7)), as: UTF8.self) + "..." : value
        return "line \(line): cannot unmarshal \(tag) `\(shown)` into \(type)"
    }

    /// yaml.v2's resolution of a plain scalar: its tag, and its value when a number.
    /// (Timestamps are not told apart from strings.)
    static func resolvePlain(_ s: String) -> (tag: String, number: Double?) {
        switch s {
        case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
             "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
            return ("!!bool", nil)
        case "", "~", "null", "Null", "NULL": return ("!!null", nil)
        case ".nan", ".NaN", ".NAN": return ("!!float", .nan)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return ("!!float", .infinity)
        case "-.inf", "-.Inf", "-.INF": return ("!!float", -.infinity)
        case "<<": return ("!!merge", nil)
        default: break
        }
        guard let first = s.unicodeScalars.first else { return ("!!null", nil) }
        if first == "." {
            if case .success(let v) = GoNumbers.parseFloat(s) { return ("!!float", v) }
            return ("!!str", nil)
        }
        guard first == "+" || first == "-" || (first.value >= 48 && first.value <= 57) else { return ("!!str", nil) }
        let plain = String(String.UnicodeScalarView(s.unicodeScalars.filter { $0 != "_" }))
        if let v = GoNumbers.parseInteger(plain) { return ("!!int", v) }
        if GoNumbers.isDecimal(plain), case .success(let v) = GoNumbers.parseFloat(plain) { return ("!!float", v) }
        return ("!!str", nil)
    }

    /// yaml.v2's text for a syntax error: `yaml: line N: PROBLEM` (N as yaml.v2 counts it:
    /// the problem's line from 0 for parser errors, from 1 for scanner errors).
    static func message(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _):
            return located(problem: problem, line: mark.line - 1, scanner: true, context: context)
        case .parser(let context, let problem, let mark, _), .composer(let context, let problem, let mark, _):
            return located(problem: problem, line: mark.line - 1, scanner: false, context: context)
        case .reader(let problem, _, _, _):
            return "yaml: \(problem)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            // yaml.v2 reports the second occurrence; Yams stops at the first.
            let key = duplicates.first ?? ""
            return "yaml: unmarshal errors:\n  line \(context.mark.line): key \(GoFormat.quote(key)) already set in map"
        default:
            return "yaml: \(error)"
        }
    }

    private static func located(problem: String, line: Int, scanner: Bool, context: YamlError.Context?) -> String {
        if line != 0 { return "yaml: line \(scanner ? line + 1 : line): \(problem)" }
        if let context, context.mark.line - 1 != 0 { return "yaml: line \(context.mark.line - 1): \(problem)" }
        return "yaml: \(problem)"
    }
}

/// Prometheus' durations as `model.Duration` parses and prints them.
enum ModelDuration {
    struct Failure: Error {
        var message: String
    }

    /// model.ParseDuration: `0`, or units from years to milliseconds, each at most once, in
    /// that order.
    static func parse(_ s: String) -> Result<Int64, Failure> {
        if s == "0" { return .success(0) }
        if s.isEmpty { return .failure(Failure(message: "empty duration string")) }
        let invalid = Failure(message: "not a valid duration string: \(GoFormat.quote(s))")
        let units: [(String, Int64)] = [("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000),
                                        ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)]
        let c = Array(s.unicodeScalars)
        var i = 0, next = 0
        var total: Int64 = 0
        var outOfRange = false
        while i < c.count {
            var digits = ""
            while i < c.count, c[i].value >= 48, c[i].value <= 57 {
                digits.unicodeScalars.append(c[i])
                i += 1
            }
            guard !digits.isEmpty, i < c.count else { return .failure(invalid) }
            var unit = String(c[i])
            if c[i] == "m", i + 1 < c.count, c[i + 1] == "s" { unit = "ms" }
            i += unit.unicodeScalars.count
            guard let k = units.firstIndex(where: { $0.0 == unit }), k >= next else { return .failure(invalid) }
            next = k + 1
            guard let n = Int64(digits) else {
                outOfRange = true
                continue
            }
            let (m, o1) = n.multipliedReportingOverflow(by: units[k].1)
            let (sum, o2) = total.addingReportingOverflow(m)
            if o1 || o2 { outOfRange = true } else { total = sum }
        }
        if outOfRange || total > PrometheusDuration.maxMilliseconds {
            return .failure(Failure(message: "duration out of range"))
        }
        return .success(total)
    }

    /// model.Duration.String: `1h30m`, `8d`, `2w`, `0s` (years and weeks only when exact).
    static func format(_ ms: Int64) -> String {
        if ms == 0 { return "0s" }
        var rest = ms
        var out = ""
        for (unit, size, exact) in [("y", Int64(365 * 86_400_000), true), ("w", Int64(7 * 86_400_000), true),
                                    ("d", Int64(86_400_000), false), ("h", Int64(3_600_000), false),
                                    ("m", Int64(60_000), false), ("s", Int64(1000), false), ("ms", Int64(1), false)] {
            if exact && rest % size != 0 { continue }
            let v = rest / size
            if v > 0 {
                out += "\(v)\(unit)"
                rest -= v * size
            }
        }
        return out
    }

    /// Go's time.Duration.String of milliseconds: `0s`, `500ms`, `1m0s`, `1h2m3.5s`.
    static func goFormat(_ ms: Int64) -> String {
        if ms == 0 { return "0s" }
        let negative = ms < 0
        let magnitude = ms.magnitude
        if magnitude < 1000 { return (negative ? "-" : "") + "\(magnitude)ms" }
        let hours = magnitude / 3_600_000
        let minutes = magnitude % 3_600_000 / 60_000
        let millis = magnitude % 60_000
        var seconds = "\(millis / 1000)"
        if millis % 1000 != 0 {
            var fraction = String(millis % 1000)
            fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
            while fraction.hasSuffix("0") { fraction.removeLast() }
            seconds += "." + fraction
        }
        var out = negative ? "-" : ""
        if hours > 0 { out += "\(hours)h" }
        if hours > 0 || minutes > 0 { out += "\(minutes)m" }
        return out + seconds + "s"
    }
}
