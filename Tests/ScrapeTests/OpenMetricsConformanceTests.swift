@testable import Exposition
import Foundation
@testable import Scrape
import Testing

/// Every case of the OpenMetrics project's parser conformance suite
/// (../shared/openmetrics-testdata): good bodies parse, bad ones are rejected.
@Suite struct OpenMetricsConformanceTests {
    static let directory: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.deletingLastPathComponent().appendingPathComponent("shared/openmetrics-testdata").path
    }()

    static let cases: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
        .filter { FileManager.default.fileExists(atPath: directory + "/" + $0 + "/test.json") }.sorted()

    @Test func suiteIsPresent() { #expect(Self.cases.count > 200) }

    @Test(arguments: cases)
    func conformance(_ name: String) throws {
        let dir = Self.directory + "/" + name
        let spec = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/test.json"))) as? [String: Any]
        let shouldParse = spec?["shouldParse"] as? Bool ?? false
        let file = spec?["file"] as? String ?? "metrics"
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + file))
        let text = String(decoding: data, as: UTF8.self)
        // The format is UTF-8: bytes that are not are rejected before parsing.
        let valid = String(validating: data, as: UTF8.self) != nil
        let result: Result<[MetricFamily], ExpositionError> = valid
            ? Result { () throws(ExpositionError) in try OpenMetricsParser.parse(text) }
            : .failure(ExpositionError(line: 0, message: "not UTF-8"))
        switch result {
        case .success: #expect(shouldParse, "\(name) should be rejected")
        case .failure(let e): #expect(!shouldParse, "\(name) should parse: \(e)")
        }
    }
}

@Suite struct OpenMetricsFuzzTests {
    /// 30k seeded mutations of the conformance bodies: the parser answers or rejects, never traps.
    @Test func mutatedBodiesNeverTrap() throws {
        let bodies = OpenMetricsConformanceTests.cases.compactMap {
            try? Data(contentsOf: URL(fileURLWithPath: OpenMetricsConformanceTests.directory + "/" + $0 + "/metrics"))
        }.map { Array($0) }
        #expect(bodies.count > 200)
        var state: UInt64 = 0xABCDEF
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 17
        }
        let alphabet = Array("{}=\",# \n\\0123456789.e+-InfNaTYPEHLOUq_abc".utf8)
        var accepted = 0
        for _ in 0..<30_000 {
            var b = bodies[Int(next() % UInt64(bodies.count))]
            for _ in 0..<(1 + next() % 4) where !b.isEmpty {
                let at = Int(next() % UInt64(b.count))
                switch next() % 3 {
                case 0: b.remove(at: at)
                case 1: b.insert(alphabet[Int(next() % UInt64(alphabet.count))], at: at)
                default: b[at] = alphabet[Int(next() % UInt64(alphabet.count))]
                }
            }
            if (try? OpenMetricsParser.parse(String(decoding: b, as: UTF8.self))) != nil { accepted += 1 }
        }
        #expect(accepted > 100)
    }
}
