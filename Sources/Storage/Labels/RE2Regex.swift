import CRE2

/// A regular expression compiled by Google RE2: the syntax of Go's regexp (Prometheus'
/// matchers, `label_replace` and relabeling), matched in time linear in the text, so no pattern
/// can make a match backtrack for minutes. Always matched against the whole text, as
/// Prometheus anchors every pattern (`^(?:pattern)$`); `.` does not match a newline.
///
/// Ownership: owns the compiled program, freed in `deinit`; immutable after `init`, so matching
/// from many threads at once is safe (RE2 guarantees it for const use).
public final class RE2Regex: @unchecked Sendable {
    /// The longest pattern accepted, in bytes; longer ones are refused before compiling.
    public static let maxPatternBytes = 64 * 1024
    /// The memory RE2 may use for one compiled program (its DFA caches grow within it).
    public static let maxProgramBytes: Int64 = 8 << 20

    public let pattern: String
    public let groupCount: Int
    private let re: OpaquePointer

    /// Compiles `pattern`; throws the reason RE2 gives (or the length bound) when it cannot.
    public init(_ pattern: String) throws(LabelMatcherError) {
        guard pattern.utf8.count <= RE2Regex.maxPatternBytes else {
            throw LabelMatcherError(pattern: String(pattern.prefix(64)) + "…",
                                    reason: "pattern longer than \(RE2Regex.maxPatternBytes) bytes")
        }
        var copy = pattern
        var error = [CChar](repeating: 0, count: 256)
        let compiled = copy.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                sx_re2_compile(chars.baseAddress, chars.count, RE2Regex.maxProgramBytes, &error, error.count)
            }
        }
        guard let compiled else {
            let reason = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw LabelMatcherError(pattern: pattern, reason: reason)
        }
        self.pattern = pattern
        re = compiled
        groupCount = Int(sx_re2_group_count(compiled))
    }

    deinit { sx_re2_free(re) }

    /// Whether the whole of `s` matches.
    public func matches(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { sx_re2_full_match(re, $0.baseAddress, $0.count) != 0 }
        }
    }

    /// The index of the group named `name`, or nil.
    public func groupIndex(named name: String) -> Int? {
        var name = name
        let i = name.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { sx_re2_group_index(re, $0.baseAddress, $0.count) }
        }
        return i < 0 ? nil : Int(i)
    }

    /// The groups of a whole match of `s` (group 0 the whole text), nil for a group that took
    /// no part; nil when `s` does not match.
    public func groups(_ s: String) -> [Substring?]? {
        var offsets = [Int64](repeating: -1, count: 2 * (groupCount + 1))
        var text = s
        let matched = text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) {
                sx_re2_full_match_groups(re, $0.baseAddress, $0.count, &offsets, Int32(groupCount)) != 0
            }
        }
        guard matched else { return nil }
        return substrings(of: text, offsets)
    }

    /// The leftmost match anywhere in `s` at or after UTF-8 offset `start` (unanchored, as Go's
    /// `FindStringSubmatchIndex`): each group's byte range in `s`, nil for a group that took
    /// no part; nil when nothing matches.
    public func firstMatch(in s: String, from start: Int) -> [Range<Int>?]? {
        var offsets = [Int64](repeating: -1, count: 2 * (groupCount + 1))
        var text = s
        let matched = text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) {
                start >= 0 && start <= $0.count
                    && sx_re2_find_groups(re, $0.baseAddress, $0.count, start, &offsets, Int32(groupCount)) != 0
            }
        }
        guard matched else { return nil }
        return (0...groupCount).map { g in
            let from = offsets[2 * g], to = offsets[2 * g + 1]
            return from >= 0 && to >= from ? Int(from)..<Int(to) : nil
        }
    }

    private func substrings(of text: String, _ offsets: [Int64]) -> [Substring?] {
        let utf8 = text.utf8
        return (0...groupCount).map { g -> Substring? in
            let start = offsets[2 * g], end = offsets[2 * g + 1]
            guard start >= 0, end >= start, end <= Int64(utf8.count) else { return nil }
            let from = utf8.index(utf8.startIndex, offsetBy: Int(start))
            let to = utf8.index(from, offsetBy: Int(end - start))
            return text[from..<to]
        }
    }
}
