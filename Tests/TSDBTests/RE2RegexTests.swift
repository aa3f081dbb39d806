import Testing
@testable import TSDB

/// RE2 behind label matchers and templates: Go's syntax (what Prometheus accepts and refuses),
/// group extraction, and the linear-time guarantee on patterns that make a backtracking engine
/// run for ages.
@Suite struct RE2RegexTests {
    struct Row: Sendable, CustomStringConvertible {
        let pattern: String
        let value: String
        let matches: Bool
        var description: String { "\(pattern) on \(value.debugDescription)" }
    }

    static let rows: [Row] = [
        Row(pattern: #"\d+"#, value: "2024", matches: true),
        Row(pattern: #"[[:alpha:]]+"#, value: "abc", matches: true),
        Row(pattern: #"[[:alpha:]]+"#, value: "ab1", matches: false),
        Row(pattern: #"\p{Greek}+"#, value: "αβγ", matches: true),
        Row(pattern: "a.c", value: "a\nc", matches: false),        // `.` stops at a newline, as in Go
        Row(pattern: "(?s)a.c", value: "a\nc", matches: true),
        Row(pattern: "(?i)ERROR|warn", value: "Error", matches: true),
        Row(pattern: "(?P<x>a)b", value: "ab", matches: true),
        Row(pattern: "é+", value: "éé", matches: true),             // UTF-8, not bytes
        Row(pattern: "..", value: "éé", matches: true),
        Row(pattern: "x*", value: "", matches: true),
        Row(pattern: "a|aa|aaa", value: "aa", matches: true),      // leftmost-first still anchors both ends
    ]

    @Test(arguments: rows)
    func goSyntax(_ row: Row) throws {
        #expect(try RE2Regex(row.pattern).matches(row.value) == row.matches)
        #expect(try LabelMatcher(.regexMatch, "l", row.pattern).matches(row.value) == row.matches)
    }

    /// What Go's regexp refuses, RE2 refuses: look-around, back-references, possessive
    /// quantifiers, repetition counts over 1000.
    @Test(arguments: ["(?=a)b", "(?<=a)b", #"(a)\1"#, "a++", "a{1001}", "(?<x>a)", "[z-a]", "(", #"\"#])
    func refusesWhatGoRefuses(_ pattern: String) {
        #expect(throws: LabelMatcherError.self) { try RE2Regex(pattern) }
        #expect(throws: LabelMatcherError.self) { try LabelMatcher(.regexMatch, "l", pattern) }
        #expect(RegexTemplate(pattern) == nil)
    }

    @Test func refusesOverlongPatternsBeforeCompiling() {
        let long = String(repeating: "a", count: RE2Regex.maxPatternBytes + 1)
        #expect(throws: LabelMatcherError.self) { try RE2Regex(long) }
    }

    /// Nested quantifiers over alternatives: exponential for a backtracking engine, linear here.
    /// (With Swift's Regex the first of these did not finish in 40 s.)
    @Test func pathologicalPatternsFinish() throws {
        let cases: [(String, String)] = [
            ("(a|aa)+", String(repeating: "a", count: 40) + "b"),
            ("(x+x+)+y", String(repeating: "x", count: 100_000)),
            ("(.*)*z", String(repeating: "q", count: 100_000)),
            ("(a*)*b", String(repeating: "a", count: 100_000)),
        ]
        for (pattern, value) in cases {
            #expect(try !RE2Regex(pattern).matches(value), "\(pattern)")
            #expect(try !LabelMatcher(.regexMatch, "l", pattern).matches(value))
            #expect(RegexTemplate(pattern)?.expand("$1", matching: value) == nil)
        }
    }

    @Test func groupsAndTemplates() throws {
        let t = try #require(RegexTemplate("(?P<host>[^:]+):(\\d+)(x)?"))
        #expect(t.expand("$1", matching: "node:9100") == "node")
        #expect(t.expand("${host}-$2", matching: "node:9100") == "node-9100")
        #expect(t.expand("$host", matching: "node:9100") == "node")
        #expect(t.expand("[$3]", matching: "node:9100") == "[]")           // a group that took no part
        #expect(t.expand("$9$nope", matching: "node:9100") == "")           // unknown groups expand to nothing
        #expect(t.expand("$1x", matching: "node:9100") == "")              // Go reads `1x` as one name
        #expect(t.expand("${1}x $$", matching: "node:9100") == "nodex $")
        #expect(t.expand("$0", matching: "é:1") == "é:1")
        #expect(t.expand("$1", matching: "no port") == nil)
    }

    @Test func matchesFromManyThreadsAtOnce() async throws {
        let re = try RE2Regex("(?:job|instance)-[0-9]+")
        let results = await withTaskGroup(of: Int.self) { group in
            for t in 0..<8 {
                group.addTask {
                    var hits = 0
                    for i in 0..<2000 where re.matches(i % 2 == 0 ? "job-\(i + t)" : "node-\(i)") { hits += 1 }
                    return hits
                }
            }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: 1000, count: 8))
    }
}
