/// A fully anchored regular expression with Go's template expansion (`$1`, `${1}`, `$name`,
/// `${name}`, `$$`), as PromQL's label_replace and Prometheus' relabeling use them.
public struct RegexTemplate: @unchecked Sendable {
    public let pattern: String
    // Immutable after init; matching does not mutate it.
    let regex: Regex<AnyRegexOutput>

    /// Compiles `^(?:pattern)$` semantics; nil for an invalid pattern.
    public init?(_ pattern: String) {
        guard let r = try? Regex("(?:" + pattern + ")").matchingSemantics(.unicodeScalar) else { return nil }
        self.pattern = pattern
        regex = r
    }

    /// Whether the whole of `s` matches.
    public func matches(_ s: String) -> Bool {
        (try? regex.wholeMatch(in: s)) != nil
    }

    /// `template` expanded with the groups of a whole match of `s`; nil when `s` does not match.
    public func expand(_ template: String, matching s: String) -> String? {
        guard let m = try? regex.wholeMatch(in: s) else { return nil }
        return RegexTemplate.expand(template, m)
    }

    static func expand(_ template: String, _ match: Regex<AnyRegexOutput>.Match) -> String {
        var out = ""
        var chars = Substring(template)
        while let c = chars.first {
            chars.removeFirst()
            guard c == "$" else { out.append(c); continue }
            if chars.first == "$" { chars.removeFirst(); out.append("$"); continue }
            var name = ""
            if chars.first == "{" {
                guard let close = chars.firstIndex(of: "}") else { out.append("$"); continue }
                name = String(chars[chars.index(after: chars.startIndex)..<close])
                chars = chars[chars.index(after: close)...]
            } else {
                while let d = chars.first, d.isLetter || d.isNumber || d == "_" { name.append(d); chars.removeFirst() }
            }
            guard !name.isEmpty else { out.append("$"); continue }
            if let i = Int(name) {
                if i < match.output.count, let sub = match.output[i].substring { out += sub }
            } else if let sub = match.output[name]?.substring {
                out += sub
            }
        }
        return out
    }
}

/// Whether `s` is a valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
public func isValidLabelName(_ s: String) -> Bool {
    guard let first = s.utf8.first, !(first >= 48 && first <= 57) else { return false }
    return s.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
}
