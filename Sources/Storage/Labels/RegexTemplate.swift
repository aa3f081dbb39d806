/// A fully anchored regular expression with Go's template expansion (`$1`, `${1}`, `$name`,
/// `${name}`, `$$`), as PromQL's label_replace and Prometheus' relabeling use them. Matched by
/// RE2, in time linear in the text.
public struct RegexTemplate: Sendable {
    public var pattern: String { regex.pattern }
    let regex: RE2Regex

    /// Compiles `^(?:pattern)$` semantics; nil for an invalid pattern.
    public init?(_ pattern: String) {
        guard let r = try? RE2Regex(pattern) else { return nil }
        regex = r
    }

    /// Compiles `^(?:pattern)$` semantics; throws RE2's reason for an invalid pattern.
    public init(validating pattern: String) throws(LabelMatcherError) {
        regex = try RE2Regex(pattern)
    }

    /// Whether the whole of `s` matches.
    public func matches(_ s: String) -> Bool {
        regex.matches(s)
    }

    /// `template` expanded with the groups of a whole match of `s`; nil when `s` does not match.
    public func expand(_ template: String, matching s: String) -> String? {
        (try? expand(template, matching: s, maxBytes: .max)) ?? nil
    }

    /// `template` expanded with the groups of a whole match of `s`; nil when `s` does not match.
    /// Stops and throws as soon as the result would pass `maxBytes`, before it is built.
    public func expand(_ template: String, matching s: String, maxBytes: Int) throws(ExpansionTooLong) -> String? {
        guard let groups = regex.groups(s) else { return nil }
        return try expand(template, groups, maxBytes: maxBytes)
    }

    /// Go's `Regexp.Expand`: a name is the longest run of letters, digits and underscores, or
    /// the text in braces; a number names a group by index; an unknown name expands to nothing.
    func expand(_ template: String, _ groups: [Substring?], maxBytes: Int) throws(ExpansionTooLong) -> String {
        var out = ""
        var chars = Substring(template)
        while let c = chars.first {
            chars.removeFirst()
            guard out.utf8.count <= maxBytes else { throw ExpansionTooLong(maxBytes: maxBytes) }
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
            let index = Int(name) ?? regex.groupIndex(named: name)
            if let i = index, i >= 0, i < groups.count, let sub = groups[i] {
                guard sub.utf8.count <= maxBytes - out.utf8.count else { throw ExpansionTooLong(maxBytes: maxBytes) }
                out += sub
            }
        }
        guard out.utf8.count <= maxBytes else { throw ExpansionTooLong(maxBytes: maxBytes) }
        return out
    }
}

/// A template expansion that would have produced more than `maxBytes`.
public struct ExpansionTooLong: Error, Sendable {
    public let maxBytes: Int
}

/// Whether `s` is a valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
public func isValidLabelName(_ s: String) -> Bool {
    guard let first = s.utf8.first, !(first >= 48 && first <= 57) else { return false }
    return s.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
}
