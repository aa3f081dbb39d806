import Foundation
import PromQL
import Storage
import Yams

/// A rule file in Prometheus' format: groups of recording and alerting rules.
///
/// Parsed as Prometheus' `rulefmt` does, with the same checks (one of `record` and `alert`,
/// an expression that parses, a valid recording rule name, no `for`, `keep_firing_for` or
/// annotations on a recording rule, valid label and annotation names, group names set and
/// unique in the file, no unknown fields), each error naming the file, the line and column,
/// the group and the rule.
public struct RuleFile: Sendable {
    public var path: String
    public var groups: [RuleGroup]

    /// Reads and checks `path`; every problem found is in the error.
    public static func load(_ path: String) throws(RuleFileError) -> RuleFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw RuleFileError(path: path, problems: ["cannot read the file: \(error.localizedDescription)"])
        }
        return try parse(text, path: path)
    }

    /// Parses and checks rule file text (`path` names it in errors).
    public static func parse(_ text: String, path: String) throws(RuleFileError) -> RuleFile {
        let root: Yams.Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw RuleFileError(path: path, problems: ["\(error)"])
        }
        var reader = RuleFileReader()
        let groups = reader.groups(root)
        guard reader.problems.isEmpty else { throw RuleFileError(path: path, problems: reader.problems) }
        return RuleFile(path: path, groups: groups)
    }
}

/// A group: rules evaluated in order, every `interval` (nil: the global evaluation interval).
public struct RuleGroup: Sendable {
    public var name: String
    public var interval: Int64?
    /// Most series or alerts one rule may produce (0: no limit).
    public var limit: Int
    public var rules: [Rule]
}

extension RuleGroup {
    /// Everything that defines the group's behaviour, as text: equal for a group a reload
    /// left unchanged (which then keeps running with its state).
    var identity: String {
        var out = "\(name)\u{0}\(interval ?? -1)\u{0}\(limit)"
        for r in rules {
            out += "\u{1}\(r.kind)\u{0}\(r.expr)\u{0}\(r.forDuration)\u{0}\(r.keepFiringFor)"
            for l in r.labels { out += "\u{0}l\(l.name)=\(l.value)" }
            for a in r.annotations { out += "\u{0}a\(a.name)=\(a.value)" }
        }
        return out
    }
}

/// One recording or alerting rule.
public struct Rule: Sendable {
    public enum Kind: Sendable, Equatable {
        /// `record`: the expression's result stored under this metric name.
        case recording(String)
        /// `alert`: fires for each series of the expression's result.
        case alerting(String)
    }

    public var kind: Kind
    public var expr: String
    public var parsed: Expr
    /// Milliseconds an alert stays pending before it fires.
    public var forDuration: Int64
    /// Milliseconds an alert keeps firing after its condition is gone.
    public var keepFiringFor: Int64
    public var labels: [(name: String, value: String)]
    public var annotations: [(name: String, value: String)]
    /// An alerting rule's labels and annotations as templates (in the order of `labels` and
    /// `annotations`); empty for a recording rule, whose labels are literal.
    public var labelTemplates: [AlertTemplate] = []
    public var annotationTemplates: [AlertTemplate] = []
    /// Where the rule starts in its file (1-based).
    public var line: Int

    public var name: String {
        switch kind {
        case .recording(let n), .alerting(let n): n
        }
    }
}

/// Everything wrong with a rule file, each problem with its place.
public struct RuleFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var problems: [String]

    public var description: String { problems.map { "\(path): \($0)" }.joined(separator: "\n") }
}

/// Walks the YAML tree and collects problems rather than stopping at the first.
struct RuleFileReader {
    var problems: [String] = []

    mutating func problem(_ node: Yams.Node?, _ message: String) {
        if let m = node?.mark { problems.append("\(m.line):\(m.column): \(message)") } else { problems.append(message) }
    }

    /// The mapping's entries by key; unknown keys are problems.
    mutating func fields(_ node: Yams.Node, allowed: [String], what: String) -> [String: Yams.Node]? {
        guard let mapping = node.mapping else {
            problem(node, "\(what): expected a mapping")
            return nil
        }
        var out: [String: Yams.Node] = [:]
        for (key, value) in mapping {
            let k = key.string ?? ""
            if !allowed.contains(k) { problem(key, "field \(k) not found in \(what)") }
            if out[k] != nil { problem(key, "field \(k) already set in \(what)") }
            out[k] = value
        }
        return out
    }

    mutating func groups(_ root: Yams.Node?) -> [RuleGroup] {
        guard let root else { return [] }
        guard let top = fields(root, allowed: ["groups"], what: "the rule file"), let list = top["groups"] else { return [] }
        guard let items = list.sequence else {
            if list.scalar?.string.isEmpty == false { problem(list, "groups: expected a list") }
            return []
        }
        var seen = Set<String>(), out: [RuleGroup] = []
        for item in items {
            guard let group = group(item) else { continue }
            if group.name.isEmpty {
                problem(item, "group name must not be empty")
            } else if !seen.insert(group.name).inserted {
                problem(item, "group name \"\(group.name)\" is repeated in the same file")
            }
            out.append(group)
        }
        return out
    }

    mutating func group(_ node: Yams.Node) -> RuleGroup? {
        guard let f = fields(node, allowed: ["name", "interval", "limit", "rules"], what: "a rule group") else { return nil }
        let name = f["name"]?.string ?? ""
        let interval = f["interval"].flatMap { duration($0, "interval", allowZero: false) }
        var limit = 0
        if let l = f["limit"] {
            if let n = l.int, n >= 0 { limit = n } else { problem(l, "limit: expected a non-negative integer") }
        }
        var rules: [Rule] = []
        if let list = f["rules"] {
            if let items = list.sequence {
                for (i, item) in items.enumerated() {
                    if let r = rule(item, group: name, index: i + 1) { rules.append(r) }
                }
            } else if list.scalar?.string.isEmpty == false {
                problem(list, "rules: expected a list")
            }
        }
        return RuleGroup(name: name, interval: interval, limit: limit, rules: rules)
    }

    mutating func duration(_ node: Yams.Node, _ field: String, allowZero: Bool) -> Int64? {
        let s = node.string ?? ""
        guard let d = PrometheusDuration.parse(s), d > 0 || (allowZero && d == 0) else {
            problem(node, "\(field): not a valid duration string: \"\(s)\"")
            return nil
        }
        return d
    }

    mutating func rule(_ node: Yams.Node, group: String, index: Int) -> Rule? {
        let allowed = ["record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"]
        guard let f = fields(node, allowed: allowed, what: "a rule") else { return nil }
        let record = f["record"]?.string ?? "", alert = f["alert"]?.string ?? ""
        let name = record.isEmpty ? alert : record
        let before = problems.count
        func add(_ at: Yams.Node?, _ message: String) {
            problem(at ?? node, "group \"\(group)\", rule \(index), \"\(name)\": \(message)")
        }
        if !record.isEmpty && !alert.isEmpty { add(f["record"], "only one of 'record' and 'alert' must be set") }
        if record.isEmpty && alert.isEmpty { add(f["record"] ?? f["alert"], "one of 'record' or 'alert' must be set") }
        let expr = f["expr"]?.string ?? ""
        var parsed: Expr?
        if expr.isEmpty {
            add(f["expr"], "field 'expr' must be set in rule")
        } else {
            do { parsed = try Parser.parse(expr) } catch { add(f["expr"], "could not parse expression: \(error)") }
        }
        let forDuration = f["for"].flatMap { duration($0, "for", allowZero: true) } ?? 0
        let keepFiring = f["keep_firing_for"].flatMap { duration($0, "keep_firing_for", allowZero: true) } ?? 0
        let labels = pairs(f["labels"], "labels")
        let annotations = pairs(f["annotations"], "annotations")
        if !record.isEmpty {
            if !annotations.isEmpty { add(f["record"], "invalid field 'annotations' in recording rule") }
            if forDuration != 0 { add(f["record"], "invalid field 'for' in recording rule") }
            if keepFiring != 0 { add(f["record"], "invalid field 'keep_firing_for' in recording rule") }
            if !isValidMetricName(record) { add(f["record"], "invalid recording rule name: \(record)") }
        }
        for l in labels where !isValidLabelName(l.name) || l.name == "__name__" { add(f["labels"], "invalid label name: \(l.name)") }
        for a in annotations where !isValidLabelName(a.name) { add(f["annotations"], "invalid annotation name: \(a.name)") }
        var labelTemplates: [AlertTemplate] = [], annotationTemplates: [AlertTemplate] = []
        if !alert.isEmpty {
            let l = Self.templates(labels, "label", alert: alert), a = Self.templates(annotations, "annotation", alert: alert)
            for message in l.problems { add(f["labels"], message) }
            for message in a.problems { add(f["annotations"], message) }
            (labelTemplates, annotationTemplates) = (l.parsed, a.parsed)
        }
        guard problems.count == before, let parsed else { return nil }
        var rule = Rule(kind: record.isEmpty ? .alerting(alert) : .recording(record), expr: expr, parsed: parsed,
                        forDuration: forDuration, keepFiringFor: keepFiring, labels: labels, annotations: annotations,
                        line: node.mark?.line ?? 0)
        rule.labelTemplates = labelTemplates
        rule.annotationTemplates = annotationTemplates
        return rule
    }

    /// Each value parsed as an alert template; a value that does not parse is a problem
    /// worded as Prometheus words it (`annotation "summary": template: …`).
    private static func templates(_ pairs: [(name: String, value: String)], _ what: String,
                                  alert: String) -> (parsed: [AlertTemplate], problems: [String]) {
        var parsed: [AlertTemplate] = [], problems: [String] = []
        for p in pairs {
            do { parsed.append(try AlertTemplate(p.value, alertName: alert)) } catch {
                problems.append("\(what) \"\(p.name)\": \(error.description)")
            }
        }
        return (parsed, problems)
    }

    /// A mapping of strings (labels, annotations), in file order.
    mutating func pairs(_ node: Yams.Node?, _ field: String) -> [(name: String, value: String)] {
        guard let node else { return [] }
        guard let mapping = node.mapping else {
            if node.scalar?.string.isEmpty == false { problem(node, "\(field): expected a mapping") }
            return []
        }
        return mapping.map { ($0.key.string ?? "", $0.value.string ?? "") }
    }
}

/// A metric name as Prometheus accepts it: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
func isValidMetricName(_ s: String) -> Bool {
    guard let first = s.utf8.first else { return false }
    func letter(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c == 95 || c == 58 }
    return letter(first) && s.utf8.dropFirst().allSatisfy { letter($0) || ($0 >= 48 && $0 <= 57) }
}
