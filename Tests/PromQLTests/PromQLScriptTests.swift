import Foundation
import Testing
@testable import PromQL
import TSDB

/// Runs Prometheus 2.42's own PromQL test scripts (../shared/promqltest/*.test) against the
/// engine over an in-memory head, the way Prometheus' harness runs them: each `eval instant`
/// also as a range query around its time, and with its `@` modifier variants.
@Suite struct PromQLScriptTests {
    static let directory: String = {
        // Tests/PromQLTests/<this file> -> the package root -> ../shared/promqltest
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.deletingLastPathComponent().appendingPathComponent("shared/promqltest").path
    }()

    static let files: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
        .filter { $0.hasSuffix(".test") }.sorted()

    /// Cases left out, each with its reason. Empty: every case of the 2.42 scripts runs.
    static let skipped: [String: String] = [:]

    @Test func scriptsArePresent() {
        #expect(Self.files.count >= 11, "no promqltest scripts under \(Self.directory)")
    }

    @Test(arguments: files)
    func script(_ name: String) throws {
        let text = try String(contentsOfFile: Self.directory + "/" + name, encoding: .utf8)
        let commands = try PromQLTestScript.parse(text, file: name)
        var head = Head()
        let engine = Engine()
        var evaluated = 0
        for command in commands {
            switch command {
            case .clear:
                head = Head()
            case .load(_, let series):
                let app = head.appender()
                // A series defined twice in one load keeps its last definition, as in
                // Prometheus' harness (aggregators.test relies on it).
                var last: [Labels: Int] = [:]
                for (i, s) in series.enumerated() { last[s.labels] = i }
                for (i, s) in series.enumerated() where last[s.labels] == i {
                    for (t, v) in s.samples { try app.append(s.labels, t, v) }
                }
                try app.commit()
            case .eval(let c):
                if let reason = Self.skipped["\(name):\(c.line)"] {
                    print("skipped \(name):\(c.line) \(c.expression): \(reason)")
                    continue
                }
                evaluated += 1
                check(c, engine: engine, head: head)
            }
        }
        // Every eval line of the script ran (or is listed as skipped with its reason).
        let evalLines = text.split(separator: "\n").filter { $0.hasPrefix("eval") }.count
        let skips = Self.skipped.keys.filter { $0.hasPrefix(name + ":") }.count
        #expect(evaluated + skips == evalLines, "\(name): ran \(evaluated) of \(evalLines) cases")
        #expect(evaluated > 0)
    }

    /// Runs a case as Prometheus' harness does: the instant query, the same query as a range
    /// query around its time (checked at that step), and each `@` variant both ways.
    func check(_ c: EvalCase, engine: Engine, head: Head) {
        let where_ = "\(c.file):\(c.line): \(c.expression)"
        guard checkInstant(c, c.expression, at: c.timeMs, engine: engine, head: head, where_) else { return }
        checkRange(c, c.expression, at: c.timeMs, engine: engine, head: head, where_ + " (range mode)")
        for (expression, t) in AtModifierCases.cases(c.expression, at: c.timeMs) {
            let variant = "\(c.file):\(c.line): \(expression) at \(t)"
            guard checkInstant(c, expression, at: t, engine: engine, head: head, variant) else { continue }
            checkRange(c, expression, at: t, engine: engine, head: head, variant + " (range mode)")
        }
    }

    /// The instant query against the expectation; false when there is nothing more to check
    /// (an expected failure, or a failure already recorded).
    func checkInstant(_ c: EvalCase, _ expression: String, at t: Int64, engine: Engine, head: Head, _ where_: String) -> Bool {
        let result: QueryValue
        do {
            result = try engine.instantQuery(expression, at: t, on: head)
        } catch {
            #expect(c.shouldFail, "\(where_): unexpected error \(error)")
            return false
        }
        guard !c.shouldFail else {
            Issue.record("\(where_): expected an error, got \(result)")
            return false
        }
        compare(c, result, where_)
        return true
    }

    /// The query over [t - 1m, t + 1m] at 1m steps, its middle step against the expectation
    /// (not for ordered cases: a range query's order is not defined).
    func checkRange(_ c: EvalCase, _ expression: String, at t: Int64, engine: Engine, head: Head, _ where_: String) {
        guard !c.ordered, let expr = try? Parser.parse(expression), expr.type == .vector || expr.type == .scalar else { return }
        let result: QueryValue
        do {
            result = try engine.rangeQuery(expression, start: t - 60_000, end: t + 60_000, step: 60_000, on: head)
        } catch {
            Issue.record("\(where_): unexpected error \(error)")
            return
        }
        guard case .matrix(let series) = result else {
            Issue.record("\(where_): expected a matrix, got \(result)")
            return
        }
        var middle: [InstantSample] = []
        for s in series {
            if let k = s.timestamps.firstIndex(of: t) { middle.append(InstantSample(labels: s.labels, t: t, v: s.values[k])) }
        }
        if expr.type == .scalar, let first = middle.first {
            compare(c, .scalar(t: t, v: first.v), where_)
        } else {
            compare(c, .vector(middle), where_)
        }
    }

    func compare(_ c: EvalCase, _ result: QueryValue, _ where_: String) {
        switch (c.expected, result) {
        case (.empty, .vector(let v)):
            #expect(v.isEmpty, "\(where_): expected no result, got \(v.map { "\($0.labels) \($0.v)" })")
        case (.empty, .matrix(let m)):
            #expect(m.isEmpty, "\(where_): expected no result, got \(m.count) series")
        case (.scalar(let want), .scalar(_, let got)):
            #expect(almostEqual(want, got), "\(where_): expected \(want), got \(got)")
        case (.vector(let want), .vector(let got)):
            compare(want, got, ordered: c.ordered, where_)
        case (.scalar(let want), .vector(let got)) where got.count == 1 && got[0].labels.isEmpty:
            #expect(almostEqual(want, got[0].v), "\(where_): expected \(want), got \(got[0].v)")
        default:
            Issue.record("\(where_): expected \(c.expected), got \(result)")
        }
    }

    func compare(_ want: [(labels: Labels, value: Double)], _ got: [InstantSample], ordered: Bool, _ where_: String) {
        let gotText = got.map { "\($0.labels) \($0.v)" }
        guard want.count == got.count else {
            Issue.record("\(where_): expected \(want.count) samples, got \(got.count): \(gotText)")
            return
        }
        if ordered {
            for (w, g) in zip(want, got) where w.labels != g.labels || !almostEqual(w.value, g.v) {
                Issue.record("\(where_): expected \(w.labels) \(w.value) in order, got \(gotText)")
                return
            }
            return
        }
        var byLabels: [Labels: Double] = [:]
        for g in got { byLabels[g.labels] = g.v }
        for w in want {
            guard let v = byLabels[w.labels] else {
                Issue.record("\(where_): missing \(w.labels); got \(gotText)")
                continue
            }
            #expect(almostEqual(w.value, v), "\(where_): \(w.labels) expected \(w.value), got \(v)")
        }
    }

    /// Prometheus' test tolerance: relative 1e-6, NaN equal to NaN.
    func almostEqual(_ a: Double, _ b: Double) -> Bool {
        if a.isNaN && b.isNaN { return true }
        if a == b { return true }
        let diff = abs(a - b)
        let minNormal = 2.2250738585072014e-308
        if a == 0 || b == 0 || diff < minNormal { return diff < 1e-6 * minNormal }
        return diff / (abs(a) + abs(b)) < 1e-6
    }
}
