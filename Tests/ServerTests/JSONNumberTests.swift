import Foundation
import PromQL
import Testing
@testable import Server

/// The in-place number writers of the JSON encoder give exactly the text of the string
/// formatters they replace.
@Suite struct JSONNumberTests {
    static func written(_ body: (inout JSONWriter) -> Void) -> String {
        var w = JSONWriter()
        body(&w)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    @Test func valuesMatchFormatValue() {
        var values: [Double] = [0, -0.0, 1, -1, 0.1, 0.25, 1e-7, 1e15, 1e15 - 1, 9.5e15, 1e16, 1e21, 1e300, -1e-300,
                                .nan, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
                                Double(bitPattern: 0x7ff0_0000_0000_0002), 123456.789, 0.23333333333333334, 45.0,
                                9_007_199_254_740_993, 4_503_599_627_370_495.5]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            values.append(Double(bitPattern: rng.next()))
            values.append(Double(Int64.random(in: -1_000_000_000...1_000_000_000, using: &rng)) / [1, 10, 100, 1000, 7][Int.random(in: 0..<5, using: &rng)])
        }
        for v in values {
            #expect(Self.written { $0.value(v) } == formatValue(v), "bits \(String(v.bitPattern, radix: 16))")
        }
    }

    @Test func timesMatchFormatSeconds() {
        var times: [Int64] = [0, 1, -1, 999, 1000, 1001, 1010, 1100, -1500, 1_795_707_012_582, .max, .min + 1]
        for _ in 0..<20_000 { times.append(Int64.random(in: -10_000_000_000_000...10_000_000_000_000)) }
        for t in times {
            #expect(Self.written { $0.time(t) } == formatSeconds(t), "\(t)")
        }
    }
}
