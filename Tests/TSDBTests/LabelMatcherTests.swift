import Testing
@testable import TSDB
import Workloads

@Suite struct LabelMatcherTests {
    struct Row: Sendable, CustomStringConvertible {
        let type: LabelMatcher.MatchType
        let pattern: String
        let value: String
        let matches: Bool
        var description: String { "\(type.rawValue)\(pattern) on \(value.debugDescription)" }
    }

    static let rows: [Row] = [
        Row(type: .equal, pattern: "foo", value: "foo", matches: true),
        Row(type: .equal, pattern: "foo", value: "foobar", matches: false),
        Row(type: .equal, pattern: "", value: "", matches: true),
        Row(type: .equal, pattern: "", value: "x", matches: false),
        Row(type: .notEqual, pattern: "foo", value: "bar", matches: true),
        Row(type: .notEqual, pattern: "foo", value: "foo", matches: false),
        Row(type: .notEqual, pattern: "", value: "", matches: false),
        // Regexes are fully anchored.
        Row(type: .regexMatch, pattern: "foo", value: "foo", matches: true),
        Row(type: .regexMatch, pattern: "foo", value: "xfoo", matches: false),
        Row(type: .regexMatch, pattern: "foo", value: "foox", matches: false),
        Row(type: .regexMatch, pattern: "fo+", value: "foooo", matches: true),
        Row(type: .regexMatch, pattern: "f.o", value: "afoo", matches: false),
        Row(type: .regexMatch, pattern: "a|b", value: "a", matches: true),
        Row(type: .regexMatch, pattern: "a|b", value: "ab", matches: false),
        Row(type: .regexMatch, pattern: "(a|b)c", value: "bc", matches: true),
        Row(type: .regexMatch, pattern: "a|bc", value: "abc", matches: false),
        Row(type: .regexMatch, pattern: "foo.*", value: "foobar", matches: true),
        Row(type: .regexMatch, pattern: "foo.*", value: "barfoo", matches: false),
        Row(type: .regexMatch, pattern: ".*foo", value: "barfoo", matches: true),
        Row(type: .regexMatch, pattern: ".*", value: "", matches: true),
        Row(type: .regexMatch, pattern: ".*", value: "anything", matches: true),
        Row(type: .regexMatch, pattern: ".+", value: "", matches: false),
        Row(type: .regexMatch, pattern: ".+", value: "x", matches: true),
        Row(type: .regexMatch, pattern: "", value: "", matches: true),
        Row(type: .regexMatch, pattern: "", value: "x", matches: false),
        Row(type: .regexMatch, pattern: "x?", value: "", matches: true),
        Row(type: .regexMatch, pattern: "[0-9]+", value: "2024", matches: true),
        Row(type: .regexMatch, pattern: "[0-9]+", value: "20a24", matches: false),
        Row(type: .regexMatch, pattern: "5..", value: "503", matches: true),
        Row(type: .regexMatch, pattern: "5..", value: "5033", matches: false),
        Row(type: .regexMatch, pattern: "GET|POST", value: "PUT", matches: false),
        Row(type: .regexMatch, pattern: "(?i)get", value: "GET", matches: true),
        Row(type: .regexNoMatch, pattern: "foo", value: "foo", matches: false),
        Row(type: .regexNoMatch, pattern: "foo", value: "foobar", matches: true),
        Row(type: .regexNoMatch, pattern: "", value: "", matches: false),
        Row(type: .regexNoMatch, pattern: ".+", value: "", matches: true),
        Row(type: .regexNoMatch, pattern: "a.*", value: "abc", matches: false),
    ]

    @Test(arguments: rows)
    func matcherTable(_ row: Row) throws {
        let m = try LabelMatcher(row.type, "l", row.pattern)
        #expect(m.matches(row.value) == row.matches)
        #expect(m.inverse.matches(row.value) == !row.matches)
    }

    @Test func invalidRegexIsAnError() {
        #expect(throws: LabelMatcherError.self) { try LabelMatcher(.regexMatch, "a", "(unclosed") }
        #expect(throws: LabelMatcherError.self) { try LabelMatcher(.regexNoMatch, "a", "[z-a]") }
    }

    @Test func selectorNeedsAMatcherThatRejectsEmpty() throws {
        #expect(!matchersSelectSomething([try LabelMatcher(.regexMatch, "a", ".*")]))
        #expect(!matchersSelectSomething([try LabelMatcher(.equal, "a", "")]))
        #expect(!matchersSelectSomething([try LabelMatcher(.notEqual, "a", "x")]))
        #expect(matchersSelectSomething([try LabelMatcher(.regexMatch, "a", ".+")]))
        #expect(matchersSelectSomething([try LabelMatcher(.notEqual, "a", ""), .equal("b", "")]))
    }

    @Test func labelsSortDedupAndDropEmpty() {
        let l = Labels([Label("b", "2"), Label("a", "1"), Label("c", ""), Label("a", "3")])
        #expect(l.pairs == [Label("a", "3"), Label("b", "2")])
        #expect(l["a"] == "3" && l["c"] == nil)
        #expect(Labels(["__name__": "up", "job": "x"]).description == #"up{job="x"}"#)
        #expect(Labels(["__name__": "up"]).description == "up")
        #expect(Labels(["a": "x\"y"]).description == #"{a="x\"y"}"#)
        #expect(Labels(["a": "1"]) < Labels(["a": "1", "b": "0"]))
        #expect(Labels(["a": "1", "z": "0"]) < Labels(["b": "0"]))
        #expect(Labels(["a": "1"]).stableHash == Labels(["a": "1"]).stableHash)
        #expect(Labels(["a": "1"]).stableHash != Labels(["a": "2"]).stableHash)
        #expect(Labels(["ab": "c"]).stableHash != Labels(["a": "bc"]).stableHash)
    }

    @Test func postingsSetOperations() {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<300 {
            let a = Set((0..<Int(rng.next() % 200)).map { _ in rng.next() % 300 })
            let b = Set((0..<Int(rng.next() % 2000)).map { _ in rng.next() % 3000 })
            let c = Set((0..<Int(rng.next() % 50)).map { _ in rng.next() % 300 })
            #expect(Postings.intersect(a.sorted(), b.sorted()) == a.intersection(b).sorted())
            #expect(Postings.union(a.sorted(), b.sorted()) == a.union(b).sorted())
            #expect(Postings.subtract(a.sorted(), b.sorted()) == a.subtracting(b).sorted())
            #expect(Postings.intersect([a.sorted(), b.sorted(), c.sorted()]) == a.intersection(b).intersection(c).sorted())
            let many = (0..<20).map { _ in Set((0..<Int(rng.next() % 20)).map { _ in rng.next() % 100 }) }
            #expect(Postings.union(many.map { $0.sorted() }) == many.reduce(Set()) { $0.union($1) }.sorted())
        }
    }
}
