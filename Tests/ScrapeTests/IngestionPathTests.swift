@testable import Exposition
import Storage
import Testing

/// The pieces every ingestion path shares: the series step (`SeriesTextCache.resolve`), the
/// OpenMetrics parser's series slices, and metadata comments.
@Suite struct IngestionPathTests {
    /// A store that creates what `refuse` does not name, counting refs from 1.
    final class Store {
        var created: [Labels] = []
        var refuse: Set<String> = []

        func create(_ labels: Labels) -> (ref: SeriesRef, handle: SeriesHandle?)? {
            if refuse.contains(labels[Labels.metricName] ?? "") { return nil }
            created.append(labels)
            return (SeriesRef(created.count), nil)
        }
    }

    static func text(_ s: String) -> ArraySlice<UInt8> { Array(s.utf8)[...] }

    @Test func seriesAreParsedOnceCreatedOnceAndDroppedOnce() throws {
        var cache = SeriesTextCache(capacity: 3)
        let store = Store()
        var admitted = 0
        func resolve(_ s: String?, guess: Int = -1) throws -> SeriesResolution {
            try cache.resolve(s.map(Self.text), guess: guess, seen: 4, admit: { labels in
                admitted += 1
                return labels[Labels.metricName] == "drop" ? nil : labels.setting("job", to: "j")
            }, create: store.create)
        }
        #expect(try resolve(#"a{x="1"}"#) == .created(0, 1))
        #expect(store.created == [Labels(["__name__": "a", "x": "1", "job": "j"])])
        #expect(try resolve(#"a{x="1"}"#) == .cached(0))
        #expect(try resolve(nil, guess: 0) == .cached(0))          // the line held the guessed text
        #expect(try resolve("drop") == .dropped(1))
        #expect(try resolve("drop") == .cached(1))
        #expect(cache.entries[1].dropped && cache.entries[1].lastSeen == 4)
        store.refuse = ["late"]
        #expect(try resolve("late") == .refused)
        #expect(cache.index(of: Self.text("late")) == nil)          // not cached: tried again
        store.refuse = []
        #expect(try resolve("late") == .created(2, 2))
        #expect(try resolve("full") == .created(nil, 3))          // capacity 3: created, not cached
        #expect(admitted == 5)
        // A malformed series text or a refusing `admit` throws and caches nothing.
        #expect(throws: SampleLineError.self) { try resolve(#"b{x="1",x="2"}"#) }
        #expect(throws: LabelLimitError.self) {
            try cache.resolve(Self.text(#"c{x="1"}"#), admit: { labels in
                try LabelLimits(labels: 1).check(labels)
                return labels
            }, create: store.create)
        }
        #expect(cache.count == 3 && store.created.count == 3)
    }

    @Test func openMetricsSamplesPointAtTheirSeriesTextAsWritten() throws {
        let body = Array("""
            # TYPE a counter
            # HELP a Requests, \\"quoted\\" and \\\\n.
            a_total{path="/é\u{301}",q="x\\"y"} 1 100.5
            a_created 1
            # TYPE b gauge
            b -0.0
            # EOF

            """.utf8)
        let families = try OpenMetricsParser.parse(body)
        let series = families.flatMap(\.samples).map { String(decoding: body[$0.series], as: UTF8.self) }
        #expect(series == [#"a_total{path="/é\#u{301}",q="x\"y"}"#, "a_created", "b"])
        #expect(families[0].help == #"Requests, "quoted" and \n."#)
        // The slice parses to the labels the validator read.
        let sample = families[0].samples[0]
        let labels = try SampleLineParser.parseSeries(Substring(decoding: body[sample.series], as: UTF8.self))
        #expect(labels == Labels(["__name__": "a_total", "path": "/é\u{301}", "q": "x\"y"]))
        #expect(sample.labels.map(\.value) == ["/é\u{301}", "x\"y"] && sample.timestamp == 100_500)
    }

    @Test func aCombiningMarkAfterAQuoteDoesNotHideTheQuote() throws {
        // Read as Characters, `"` followed by U+0301 is one grapheme and the value ran on.
        let body = Array("x{a=\"\u{301}\"} 1\n# EOF\n".utf8)
        let sample = try #require(try OpenMetricsParser.parse(body).first?.samples.first)
        #expect(sample.labels.first?.value == "\u{301}")
    }

    @Test func metadataCommentsAreReadOneWay() {
        var m = MetricMetadata()
        for line in ["# TYPE x counter", #"# HELP x a \\n b\nc \q"#, "# UNIT x seconds", "# other x y", "#HELP x y"] {
            if let c = MetricMetadata.comment(Self.text(line)) { m.set(c.kind, c.text) }
        }
        #expect(m == MetricMetadata(type: "counter", help: "a \\n b\nc \\q", unit: "seconds"))
        #expect(MetricMetadata.comment(Self.text("# HELP x")).map { $0.text } == "")
    }
}
