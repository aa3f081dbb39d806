import Foundation
import Testing
import Workloads
@testable import PromQL
import TSDB

/// A head with counters, gauges, histogram buckets, gaps and stale markers over 2h at 15s.
func sampleHead() throws -> Head {
    let head = Head()
    let app = head.appender()
    var rng = SplitMix64(seed: 21)
    for step in 0..<480 {
        let t = Int64(step) * 15_000
        for job in ["api", "db"] {
            for instance in 0..<3 {
                let base = ["job": job, "instance": "\(instance)"]
                if step % 37 != instance {   // a missed scrape now and then
                    try app.append(Labels(base.merging(["__name__": "requests_total"]) { a, _ in a }), t,
                                   Double(step * (instance + 1) + (step > 300 && instance == 1 ? -250 : 0)).magnitude)
                }
                let gauge = step > 400 && instance == 2 ? Double(bitPattern: 0x7ff0_0000_0000_0002) : Double(rng.next() % 1000) / 10
                try app.append(Labels(base.merging(["__name__": "temperature"]) { a, _ in a }), t, gauge)
                var cumulative = 0.0
                for le in ["0.1", "0.5", "1", "+Inf"] {
                    cumulative += Double(step) * Double(instance + 1) * 0.5
                    try app.append(Labels(base.merging(["__name__": "latency_bucket", "le": le]) { a, _ in a }), t, cumulative)
                }
            }
        }
    }
    try app.commit()
    return head
}

@Suite struct EngineTests {
    static let expressions = [
        "requests_total", "temperature", "requests_total offset 5m", "rate(requests_total[5m])",
        "increase(requests_total[10m])", "irate(requests_total[1m])", "delta(temperature[5m])",
        "sum by (job) (rate(requests_total[5m]))", "avg without (instance) (temperature)",
        "max(temperature) - min(temperature)", "count(temperature > 50)", "topk(2, temperature)",
        "histogram_quantile(0.9, sum by (le, job) (rate(latency_bucket[5m])))",
        "rate(requests_total[5m]) / on(job, instance) group_left temperature",
        "temperature > bool 40", "requests_total and temperature > 30", "temperature unless requests_total > 100",
        "max_over_time(temperature[10m])", "avg_over_time(rate(requests_total[1m])[10m:1m])",
        "deriv(temperature[10m])", "predict_linear(requests_total[15m], 600)", "resets(requests_total[1h])",
        "changes(temperature[5m])", "quantile_over_time(0.5, temperature[10m])", "stddev(temperature)",
        "absent(nonexistent)", "absent_over_time(temperature{instance=\"2\"}[1m])", "timestamp(temperature)",
        "label_replace(temperature, \"host\", \"h-$1\", \"instance\", \"(.*)\")", "scalar(sum(temperature)) * 2",
        "time() - requests_total", "vector(1) + 2", "sum(temperature) by (job) * 0 + 1", "-temperature",
        "round(temperature, 5)", "clamp(temperature, 10, 90)", "last_over_time(temperature[2m])",
        "holt_winters(temperature[10m], 0.5, 0.5)", "count_values(\"value\", round(temperature / 20))",
        "quantile(0.25, temperature)", "group by (job) (temperature)", "sort(temperature)",
    ]

    /// A range query must equal instant queries at each of its steps.
    @Test(arguments: expressions)
    func rangeQueryMatchesInstantQueriesAtEachStep(_ query: String) throws {
        let head = try sampleHead()
        let engine = Engine()
        let start: Int64 = 600_000 + 7_321, end: Int64 = 7_000_000, step: Int64 = 97_000
        guard case .matrix(let matrix) = try engine.rangeQuery(query, start: start, end: end, step: step, on: head) else {
            Issue.record("range query did not return a matrix"); return
        }
        var byTime: [Int64: [Labels: Double]] = [:]
        for s in matrix {
            #expect(zip(s.timestamps, s.timestamps.dropFirst()).allSatisfy { $0 < $1 })
            for (t, v) in zip(s.timestamps, s.values) { byTime[t, default: [:]][s.labels] = v }
        }
        #expect(matrix.map(\.labels) == matrix.map(\.labels).sorted())
        var t = start
        while t <= end {
            var instant: [Labels: Double] = [:]
            switch try engine.instantQuery(query, at: t, on: head) {
            case .vector(let v): for s in v { instant[s.labels] = s.v }
            case .scalar(_, let v): instant[.empty] = v
            default: Issue.record("unexpected instant result")
            }
            let ranged = byTime[t] ?? [:]
            #expect(ranged.keys.sorted() == instant.keys.sorted(), "\(query) at \(t)")
            for (l, v) in instant {
                let r = ranged[l] ?? .nan
                #expect(v == r || (v.isNaN && r.isNaN) || abs(v - r) <= 1e-9 * max(abs(v), abs(r)), "\(query) at \(t): \(l) \(v) vs \(r)")
            }
            t += step
        }
    }

    /// Reading and computing series on all cores gives exactly the serial result.
    @Test(arguments: expressions)
    func parallelEvaluationMatchesSerial(_ query: String) throws {
        let head = try sampleHead()
        var serial = EngineOptions(), parallel = EngineOptions()
        serial.parallelSeriesThreshold = .max
        parallel.parallelSeriesThreshold = 1
        let run = { (options: EngineOptions) throws -> QueryValue in
            try Engine(options: options).rangeQuery(query, start: 600_000, end: 7_000_000, step: 60_000, on: head)
        }
        let a = try run(serial), b = try run(parallel)
        guard case .matrix(let x) = a, case .matrix(let y) = b else { Issue.record("not matrices"); return }
        #expect(x.map(\.labels) == y.map(\.labels), "\(query)")
        #expect(x.map(\.timestamps) == y.map(\.timestamps), "\(query)")
        #expect(x.map { $0.values.map(\.bitPattern) } == y.map { $0.values.map(\.bitPattern) }, "\(query)")
        var limited = parallel
        limited.maxSamples = 100
        #expect(throws: QueryError.tooManySamples) {
            _ = try Engine(options: limited).rangeQuery("temperature", start: 0, end: 7_000_000, step: 15_000, on: head)
        }
    }

    @Test func sampleLimitIsATypedError() throws {
        let head = try sampleHead()
        var options = EngineOptions()
        options.maxSamples = 100
        #expect(throws: QueryError.tooManySamples) {
            _ = try Engine(options: options).rangeQuery("temperature", start: 0, end: 7_000_000, step: 15_000, on: head)
        }
        #expect(QueryError.tooManySamples.errorType == "execution")
        // Within the limit the same query works.
        options.maxSamples = 1_000_000
        _ = try Engine(options: options).rangeQuery("temperature", start: 0, end: 7_000_000, step: 15_000, on: head)
    }

    @Test func timeoutIsATypedError() throws {
        let head = try sampleHead()
        var options = EngineOptions()
        options.timeout = .nanoseconds(1)
        do {
            _ = try Engine(options: options).rangeQuery("sum(rate(latency_bucket[5m]))", start: 0, end: 7_000_000, step: 1000, on: head)
            Issue.record("expected a timeout")
        } catch {
            guard case .timeout = error else { Issue.record("expected timeout, got \(error)"); return }
            #expect(error.errorType == "timeout")
        }
    }

    @Test func rangeQueryRejectsMatrixAndBadSteps() throws {
        let head = try sampleHead()
        let engine = Engine()
        #expect(throws: QueryError.self) { try engine.rangeQuery("temperature[5m]", start: 0, end: 1000, step: 1000, on: head) }
        #expect(throws: QueryError.self) { try engine.rangeQuery("temperature", start: 0, end: 1000, step: 0, on: head) }
        #expect(throws: QueryError.self) { try engine.rangeQuery("temperature", start: 1000, end: 0, step: 10, on: head) }
        do {
            _ = try engine.instantQuery("sum(", at: 0, on: head)
        } catch {
            #expect(error.errorType == "bad_data")
        }
    }

    @Test func stringAndScalarResults() throws {
        let head = Head()
        let engine = Engine()
        guard case .string(let t, let s) = try engine.instantQuery("\"hello\"", at: 5000, on: head) else {
            Issue.record("expected a string"); return
        }
        #expect(t == 5000 && s == "hello")
        guard case .scalar(_, let v) = try engine.instantQuery("1 + 2 * 3 ^ 2", at: 0, on: head) else {
            Issue.record("expected a scalar"); return
        }
        #expect(v == 19)
    }

    @Test func valuesFormatLikePrometheus() {
        #expect(formatValue(1) == "1")
        #expect(formatValue(0.1) == "0.1")
        #expect(formatValue(1e-7) == "0.0000001")
        #expect(formatValue(123456789012) == "123456789012")
        #expect(formatValue(1e21) == "1000000000000000000000")
        #expect(formatValue(-2.5) == "-2.5")
        #expect(formatValue(.nan) == "NaN" && formatValue(.infinity) == "+Inf" && formatValue(-.infinity) == "-Inf")
    }
}
