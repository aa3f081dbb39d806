import Foundation
import Testing
import TSDB
@testable import Scrape

@Suite struct RelabelTests {
    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let input: [String: String]
        let rules: [RelabelConfig]
        let output: [String: String]?     // nil: dropped
        var description: String { name }
    }

    static func rule(_ action: RelabelConfig.Action = .replace, source: [String] = [], target: String = "",
                     regex: String = "(.*)", replacement: String = "$1", separator: String = ";", modulus: UInt64 = 0) -> RelabelConfig {
        // The table only holds valid rules; an invalid one fails the test that builds it.
        (try? RelabelConfig(sourceLabels: source, separator: separator, targetLabel: target, regex: regex,
                            modulus: modulus, replacement: replacement, action: action))!
    }

    static let cases: [Case] = [
        Case(name: "replace with groups", input: ["a": "foo", "b": "bar"],
             rules: [rule(source: ["a"], target: "d", regex: "f(.*)", replacement: "ch${1}-ch${1}")],
             output: ["a": "foo", "b": "bar", "d": "choo-choo"]),
        Case(name: "replace joins sources with the separator", input: ["a": "foo", "b": "bar", "c": "baz"],
             rules: [rule(source: ["a", "b"], target: "d", regex: "f(.*);(.*)r", replacement: "a${1}b${2}m")],
             output: ["a": "foo", "b": "bar", "c": "baz", "d": "aoobbam"]),
        Case(name: "replace without a match changes nothing", input: ["a": "foo"],
             rules: [rule(source: ["a"], target: "b", regex: "x(.*)")], output: ["a": "foo"]),
        Case(name: "regex is fully anchored", input: ["a": "foo"],
             rules: [rule(source: ["a"], target: "b", regex: "o+", replacement: "hit")], output: ["a": "foo"]),
        Case(name: "empty replacement deletes the target", input: ["a": "foo", "b": "bar"],
             rules: [rule(source: ["a"], target: "b", regex: "(.*)", replacement: "")], output: ["a": "foo"]),
        Case(name: "target name from a template", input: ["a": "some-name-value"],
             rules: [rule(source: ["a"], target: "${1}", regex: "some-([^-]+)-([^,]+)", replacement: "${2}")],
             output: ["a": "some-name-value", "name": "value"]),
        Case(name: "invalid target name deletes the target", input: ["a": "some-1-value"],
             rules: [rule(source: ["a"], target: "${1}", regex: "some-([^-]+)-([^,]+)", replacement: "${2}")],
             output: ["a": "some-1-value"]),
        Case(name: "$$ is a dollar", input: ["a": "x"],
             rules: [rule(source: ["a"], target: "b", replacement: "$$$1")], output: ["a": "x", "b": "$x"]),
        Case(name: "keep", input: ["a": "foo"], rules: [rule(.keep, source: ["a"], regex: "f.*")], output: ["a": "foo"]),
        Case(name: "keep drops on no match", input: ["a": "foo"], rules: [rule(.keep, source: ["a"], regex: "b.*")], output: nil),
        Case(name: "keep with a missing label matches the empty string", input: ["a": "foo"],
             rules: [rule(.keep, source: ["z"], regex: "")], output: ["a": "foo"]),
        Case(name: "drop", input: ["a": "foo"], rules: [rule(.drop, source: ["a"], regex: "f.*")], output: nil),
        Case(name: "drop keeps on no match", input: ["a": "foo"], rules: [rule(.drop, source: ["a"], regex: "x")], output: ["a": "foo"]),
        Case(name: "keepequal", input: ["a": "1", "b": "1"], rules: [rule(.keepequal, source: ["a"], target: "b")], output: ["a": "1", "b": "1"]),
        Case(name: "keepequal drops", input: ["a": "1", "b": "2"], rules: [rule(.keepequal, source: ["a"], target: "b")], output: nil),
        Case(name: "dropequal", input: ["a": "1", "b": "1"], rules: [rule(.dropequal, source: ["a"], target: "b")], output: nil),
        Case(name: "dropequal keeps", input: ["a": "1", "b": "2"], rules: [rule(.dropequal, source: ["a"], target: "b")], output: ["a": "1", "b": "2"]),
        Case(name: "hashmod", input: ["a": "foo", "b": "bar", "c": "baz"],
             rules: [rule(.hashmod, source: ["c"], target: "d", modulus: 1000)], output: ["a": "foo", "b": "bar", "c": "baz", "d": "976"]),
        Case(name: "hashmod of a newline", input: ["a": "foo\nbar"],
             rules: [rule(.hashmod, source: ["a"], target: "b", modulus: 1000)], output: ["a": "foo\nbar", "b": "734"]),
        Case(name: "labelmap", input: ["a": "foo", "b1": "bar", "b2": "baz"],
             rules: [rule(.labelmap, regex: "(b.*)", replacement: "bar_${1}")],
             output: ["a": "foo", "b1": "bar", "b2": "baz", "bar_b1": "bar", "bar_b2": "baz"]),
        Case(name: "labelmap of meta labels", input: ["__meta_kubernetes_pod_label_app": "web", "job": "k"],
             rules: [rule(.labelmap, regex: "__meta_kubernetes_pod_label_(.+)")],
             output: ["__meta_kubernetes_pod_label_app": "web", "app": "web", "job": "k"]),
        Case(name: "labeldrop", input: ["a": "foo", "b1": "bar", "b2": "baz"], rules: [rule(.labeldrop, regex: "b.*")], output: ["a": "foo"]),
        Case(name: "labelkeep", input: ["a": "foo", "b1": "bar", "b2": "baz"], rules: [rule(.labelkeep, regex: "b.*")], output: ["b1": "bar", "b2": "baz"]),
        Case(name: "lowercase", input: ["foo": "bAr123Foo"], rules: [rule(.lowercase, source: ["foo"], target: "foo_lower")],
             output: ["foo": "bAr123Foo", "foo_lower": "bar123foo"]),
        Case(name: "uppercase", input: ["foo": "bAr123Foo"], rules: [rule(.uppercase, source: ["foo"], target: "foo_upper")],
             output: ["foo": "bAr123Foo", "foo_upper": "BAR123FOO"]),
        Case(name: "rules apply in order", input: ["__address__": "10.0.0.1:8080", "__meta_x": "1"],
             rules: [rule(source: ["__address__"], target: "instance"), rule(source: ["__address__"], target: "host", regex: "(.*):.*"),
                     rule(.labeldrop, regex: "__meta_.*")],
             output: ["__address__": "10.0.0.1:8080", "instance": "10.0.0.1:8080", "host": "10.0.0.1"]),
    ]

    @Test(arguments: cases)
    func relabelTable(_ c: Case) {
        let got = Relabeling.apply(Labels(c.input), c.rules)
        #expect(got == c.output.map { Labels($0) })
    }

    @Test func invalidRulesAreRefused() {
        #expect(throws: RelabelError.self) { try RelabelConfig(regex: "(", action: .keep) }
        #expect(throws: RelabelError.self) { try RelabelConfig(action: .replace) }                       // no target
        #expect(throws: RelabelError.self) { try RelabelConfig(targetLabel: "x", action: .hashmod) }      // no modulus
        #expect(throws: RelabelError.self) { try RelabelConfig(sourceLabels: ["a"], action: .labeldrop) }
        #expect(throws: RelabelError.self) { try RelabelConfig(targetLabel: "1x", action: .lowercase) }
    }

    @Test func md5KnownVectors() {
        func hex(_ s: String) -> String { MD5.digest(Array(s.utf8)).map { String(format: "%02x", $0) }.joined() }
        #expect(hex("") == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(hex("abc") == "900150983cd24fb0d6963f7d28e17f72")
        #expect(hex(String(repeating: "a", count: 1000)) == "cabe45dcc9ae5b66ba86600cca6b8ba8")
    }
}
