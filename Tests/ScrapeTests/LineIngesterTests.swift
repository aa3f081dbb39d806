@testable import Exposition
import Storage
import Testing

/// The importers' shared line path: a series parsed once, then found by its text; comments and
/// blanks handed back; bad lines, refused times and broken limits add nothing.
@Suite struct LineIngesterTests {
    /// A store that records what reached it.
    final class Recorder {
        var created: [(Labels, Int64, Double)] = []
        var appended: [(SeriesRef, Int64, Double)] = []

        func ingest(_ ingester: inout LineIngester, _ line: String, now: Int64 = 7) throws -> LineIngester.Line {
            try ingester.ingest(Array(line.utf8)[...], time: { $0 ?? now }, create: { labels, t, v in
                self.created.append((labels, t, v))
                return SeriesRef(self.created.count)
            }, append: { ref, t, v in
                self.appended.append((ref, t, v))
            })
        }
    }

    @Test func aSeriesIsParsedOnceThenFoundByItsText() throws {
        var ingester = LineIngester(format: .text, cacheCapacity: 16)
        let r = Recorder()
        #expect(try r.ingest(&ingester, #"up{job="a"} 1 1000"#) == .sample)
        #expect(try r.ingest(&ingester, #"up{job="a"} NaN 2000"#) == .sample)
        #expect(try r.ingest(&ingester, #"up{job="a"} -Inf"#) == .sample)
        #expect(try r.ingest(&ingester, "  \t") == .blank)
        #expect(try r.ingest(&ingester, "  # TYPE up gauge") == .comment(Array("# TYPE up gauge".utf8)[...]))
        #expect(try r.ingest(&ingester, #"up{job="b"} -0.0 3000"#) == .sample)
        #expect(r.created.map(\.0) == [Labels(["__name__": "up", "job": "a"]), Labels(["__name__": "up", "job": "b"])])
        #expect(r.created.map(\.1) == [1000, 3000])
        #expect(r.created[1].2.bitPattern == (-0.0 as Double).bitPattern)
        #expect(r.appended.map(\.0) == [1, 1])
        #expect(r.appended.map(\.1) == [2000, 7])
        #expect(r.appended[0].2.isNaN && r.appended[1].2 == -.infinity)
    }

    @Test func openMetricsTimesAreSeconds() throws {
        var ingester = LineIngester(format: .openMetrics, cacheCapacity: 16)
        let r = Recorder()
        _ = try r.ingest(&ingester, "x 1 1.5")
        #expect(r.created.map(\.1) == [1500])
    }

    @Test func badLinesRefusedTimesAndBrokenLimitsAddNothing() throws {
        var ingester = LineIngester(format: .text, limits: LabelLimits(labels: 2, nameLength: 8, valueLength: 4), cacheCapacity: 16)
        let r = Recorder()
        for bad in [#"up{job="a" 1"#, "up", "up x", "up 1 notatime", #"up{a="1",b="2"} 1"#, #"up{longername="1"} 1"#, #"up{a="12345"} 1"#] {
            #expect(throws: (any Error).self, "\(bad)") { try r.ingest(&ingester, bad) }
        }
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try ingester.ingest(Array("ok 1".utf8)[...], time: { _ in throw Refused() }, create: { _, _, _ in 0 }, append: { _, _, _ in })
        }
        #expect(r.created.isEmpty && r.appended.isEmpty)
        #expect(ingester.cache.count == 0)
    }
}

extension LineIngester.Line: Equatable {
    public static func == (a: Self, b: Self) -> Bool {
        switch (a, b) {
        case (.blank, .blank), (.sample, .sample): true
        case (.comment(let x), .comment(let y)): x.elementsEqual(y)
        default: false
        }
    }
}
