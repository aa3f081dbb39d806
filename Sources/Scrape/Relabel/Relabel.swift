import Storage

/// One relabeling rule, with Prometheus' defaults: separator `;`, regex `(.*)` (fully
/// anchored), replacement `$1`, action `replace`.
public struct RelabelConfig: Sendable {
    public enum Action: String, Sendable, CaseIterable {
        case replace, keep, drop, keepequal, dropequal, hashmod, labelmap, labeldrop, labelkeep, lowercase, uppercase
    }

    public var sourceLabels: [String] = []
    public var separator = ";"
    public var targetLabel = ""
    public var regex: RegexTemplate
    public var modulus: UInt64 = 0
    public var replacement = "$1"
    public var action: Action = .replace

    public init(sourceLabels: [String] = [], separator: String = ";", targetLabel: String = "",
                regex: String = "(.*)", modulus: UInt64 = 0, replacement: String = "$1",
                action: Action = .replace) throws(RelabelError) {
        guard let r = RegexTemplate(regex) else { throw .invalid("invalid regular expression \"\(regex)\"") }
        self.sourceLabels = sourceLabels
        self.separator = separator
        self.targetLabel = targetLabel
        self.regex = r
        self.modulus = modulus
        self.replacement = replacement
        self.action = action
        try validate()
    }

    /// Prometheus' checks of a rule's fields.
    func validate() throws(RelabelError) {
        switch action {
        case .hashmod:
            if modulus == 0 { throw .invalid("relabel configuration for hashmod requires non-zero modulus") }
            if targetLabel.isEmpty { throw .invalid("relabel configuration for hashmod action requires 'target_label' value") }
        case .replace:
            if targetLabel.isEmpty { throw .invalid("relabel configuration for replace action requires 'target_label' value") }
        case .lowercase, .uppercase, .keepequal, .dropequal:
            if targetLabel.isEmpty { throw .invalid("relabel configuration for \(action.rawValue) action requires 'target_label' value") }
            if !isValidLabelName(targetLabel) { throw .invalid("\"\(targetLabel)\" is invalid 'target_label' for \(action.rawValue) action") }
        case .labeldrop, .labelkeep:
            if !sourceLabels.isEmpty || !targetLabel.isEmpty || separator != ";" || replacement != "$1" || modulus != 0 {
                throw .invalid("\(action.rawValue) action requires only 'regex', and no other fields")
            }
        default: break
        }
        if action == .keepequal || action == .dropequal, regex.pattern != "(.*)" || replacement != "$1" || modulus != 0 {
            throw .invalid("\(action.rawValue) action requires only 'source_labels' and `target_label`, and no other fields")
        }
    }
}

/// A rule that cannot be used.
public enum RelabelError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)
    public var description: String { if case .invalid(let m) = self { return m }; return "" }
}

public enum Relabeling {
    /// Applies the rules in order; nil when a rule drops the label set.
    public static func apply(_ labels: Labels, _ rules: [RelabelConfig]) -> Labels? {
        var current = labels
        for rule in rules {
            guard let next = apply(current, rule) else { return nil }
            current = next
        }
        return current
    }

    static func apply(_ labels: Labels, _ r: RelabelConfig) -> Labels? {
        let value = r.sourceLabels.map { labels[$0] ?? "" }.joined(separator: r.separator)
        switch r.action {
        case .drop: return r.regex.matches(value) ? nil : labels
        case .keep: return r.regex.matches(value) ? labels : nil
        case .dropequal: return (labels[r.targetLabel] ?? "") == value ? nil : labels
        case .keepequal: return (labels[r.targetLabel] ?? "") == value ? labels : nil
        case .replace:
            guard let target = r.regex.expand(r.targetLabel, matching: value) else { return labels }
            guard isValidLabelName(target) else { return labels.setting(r.targetLabel, to: "") }
            let result = r.regex.expand(r.replacement, matching: value) ?? ""
            if result.isEmpty { return labels.setting(r.targetLabel, to: "") }
            return labels.setting(target, to: result)
        case .lowercase: return labels.setting(r.targetLabel, to: value.lowercased())
        case .uppercase: return labels.setting(r.targetLabel, to: value.uppercased())
        case .hashmod:
            let hash = MD5.digest(Array(value.utf8))
            var sum: UInt64 = 0
            for b in hash[8..<16] { sum = sum << 8 | UInt64(b) }
            return labels.setting(r.targetLabel, to: String(sum % r.modulus))
        case .labelmap:
            var out = labels
            for l in labels {
                if let name = r.regex.expand(r.replacement, matching: l.name) { out = out.setting(name, to: l.value) }
            }
            return out
        case .labeldrop:
            return Labels(sorted: labels.pairs.filter { !r.regex.matches($0.name) })
        case .labelkeep:
            return Labels(sorted: labels.pairs.filter { r.regex.matches($0.name) })
        }
    }
}
