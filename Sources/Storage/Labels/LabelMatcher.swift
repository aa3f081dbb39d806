/// A condition on one label: `=`, `!=`, `=~` or `!~`. An absent label has the empty value, so
/// `{a=""}` matches series without `a`. Regular expressions are fully anchored.
public struct LabelMatcher: Sendable, Hashable, CustomStringConvertible {
    public enum MatchType: String, Sendable, Hashable, CaseIterable {
        case equal = "="
        case notEqual = "!="
        case regexMatch = "=~"
        case regexNoMatch = "!~"
    }

    public let type: MatchType
    public let name: String
    public let value: String
    let regex: AnchoredRegex?

    /// A matcher; a regex type with an invalid pattern throws `LabelMatcherError`.
    public init(_ type: MatchType, _ name: String, _ value: String) throws(LabelMatcherError) {
        self.type = type
        self.name = name
        self.value = value
        switch type {
        case .equal, .notEqual: regex = nil
        case .regexMatch, .regexNoMatch: regex = try AnchoredRegex(value)
        }
    }

    /// Shorthand for an equality matcher, which cannot fail.
    public static func equal(_ name: String, _ value: String) -> LabelMatcher {
        LabelMatcher(unchecked: .equal, name, value)
    }

    init(unchecked type: MatchType, _ name: String, _ value: String) {
        self.type = type
        self.name = name
        self.value = value
        regex = nil
    }

    /// Whether a label value (empty for an absent label) satisfies the matcher.
    @inlinable
    public func matches(_ s: String) -> Bool {
        switch type {
        case .equal: return s == value
        case .notEqual: return s != value
        case .regexMatch: return regexMatches(s)
        case .regexNoMatch: return !regexMatches(s)
        }
    }

    @usableFromInline
    func regexMatches(_ s: String) -> Bool { regex?.matches(s) ?? false }

    /// Whether the matcher is satisfied by series that lack the label.
    public var matchesEmpty: Bool { matches("") }

    /// The matcher that matches exactly the values this one rejects.
    public var inverse: LabelMatcher {
        let t: MatchType = switch type {
        case .equal: .notEqual
        case .notEqual: .equal
        case .regexMatch: .regexNoMatch
        case .regexNoMatch: .regexMatch
        }
        var m = LabelMatcher(unchecked: t, name, value)
        m = LabelMatcher(copying: m, regex: regex)
        return m
    }

    init(copying m: LabelMatcher, regex: AnchoredRegex?) {
        type = m.type
        name = m.name
        value = m.value
        self.regex = regex
    }

    public var description: String { "\(name)\(type.rawValue)\(quoteLabelValue(value))" }

    public static func == (a: LabelMatcher, b: LabelMatcher) -> Bool {
        a.type == b.type && a.name == b.name && a.value == b.value
    }

    public func hash(into h: inout Hasher) {
        h.combine(type)
        h.combine(name)
        h.combine(value)
    }
}

/// A regular expression that failed to compile.
public struct LabelMatcherError: Error, Sendable, Equatable, CustomStringConvertible {
    public let pattern: String
    public let reason: String
    public var description: String { "invalid regular expression \(quoteLabelValue(pattern)): \(reason)" }
}

/// Whether a selector's matchers may select anything without scanning every series: Prometheus
/// requires at least one matcher that does not match the empty string.
public func matchersSelectSomething(_ matchers: [LabelMatcher]) -> Bool {
    matchers.contains { !$0.matchesEmpty }
}
