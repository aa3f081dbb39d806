/// A fully anchored regular expression (`^(?:pattern)$`, as Prometheus anchors label
/// matchers), with fast paths for the common shapes: a literal, a set of literal alternatives,
/// `.*`, `.+` and a literal prefix followed by `.*`.
///
/// Ownership: immutable after `init`; matching reads only. The general shape is matched by
/// RE2, in time linear in the value.
final class AnchoredRegex: Sendable {
    enum Shape {
        case literal(String)
        case alternatives(Set<String>)
        case anything            // .*
        case nonEmpty            // .+
        case prefix(String)      // literal.*
        case general
    }

    let pattern: String
    let shape: Shape
    let regex: RE2Regex?

    init(_ pattern: String) throws(LabelMatcherError) {
        self.pattern = pattern
        shape = AnchoredRegex.classify(pattern)
        if case .general = shape {
            regex = try RE2Regex(pattern)
        } else {
            regex = nil
        }
    }

    func matches(_ s: String) -> Bool {
        switch shape {
        case .literal(let l): return s == l
        case .alternatives(let set): return set.contains(s)
        case .anything: return !s.utf8.contains(10)
        case .nonEmpty: return !s.isEmpty && !s.utf8.contains(10)
        case .prefix(let p): return s.hasPrefix(p) && !s.utf8.dropFirst(p.utf8.count).contains(10)
        case .general: return regex?.matches(s) ?? false
        }
    }

    static let metacharacters = Set("\\.+*?()|[]{}^$")

    static func isLiteral<S: StringProtocol>(_ s: S) -> Bool {
        !s.contains { metacharacters.contains($0) }
    }

    static func classify(_ p: String) -> Shape {
        if p == ".*" { return .anything }
        if p == ".+" { return .nonEmpty }
        if isLiteral(p) { return .literal(p) }
        if p.hasSuffix(".*"), isLiteral(p.dropLast(2)) { return .prefix(String(p.dropLast(2))) }
        let parts = p.split(separator: "|", omittingEmptySubsequences: false)
        if parts.count > 1, parts.allSatisfy({ isLiteral($0) }) {
            return .alternatives(Set(parts.map(String.init)))
        }
        return .general
    }
}
