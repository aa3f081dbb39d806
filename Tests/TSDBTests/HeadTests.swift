import Testing
@testable import TSDB

func series(_ name: String, _ extra: [String: String] = [:]) -> Labels {
    var d = extra
    d["__name__"] = name
    return Labels(d)
}

func read(_ q: any Querier, _ matchers: [LabelMatcher]) -> [(Labels, [(Int64, Double)])] {
    var set = q.select(matchers, hints: nil)
    var out: [(Labels, [(Int64, Double)])] = []
    while set.next() {
        let s = set.at()
        var it = s.makeIterator()
        var samples: [(Int64, Double)] = []
        while it.next() { samples.append(it.at()) }
        #expect(it.error == nil)
        out.append((s.labels, samples))
    }
    return out
}

@Suite struct HeadTests {
    @Test func commitMakesSamplesVisibleAllAtOnce() throws {
        let head = Head()
        let app = head.appender()
        let ref = try app.append(series("up", ["job": "a"]), 1000, 1)
        try app.append(ref, 2000, 2)
        #expect(read(head.querier(mint: 0, maxt: 10_000), [.equal("__name__", "up")]).isEmpty)
        try app.commit()
        let got = read(head.querier(mint: 0, maxt: 10_000), [.equal("__name__", "up")])
        #expect(got.count == 1)
        #expect(got[0].1.map(\.0) == [1000, 2000])
        #expect(head.stats.samplesAppended == 2)
        #expect(head.stats.minTime == 1000 && head.stats.maxTime == 2000)
    }

    /// A handle appends like a ref; once truncation drops its series, appending through it
    /// fails with `unknownSeriesRef` and appending by labels makes a new series. The test
    /// keeps the handle's owner, as every holder of a handle must (SeriesLifetime.swift).
    @Test func handlesAppendUntilTheirSeriesIsDropped() throws {
        let head = Head()
        let app = head.appender()
        let handle = try app.appendReturningHandle(series("m"), 1000, 1)
        let owner = handle.owner
        defer { withExtendedLifetime(owner) {} }
        try app.append(handle, 2000, 2)
        #expect(throws: AppendError.outOfOrderSample) { try app.append(handle, 1500, 9) }
        try app.commit()
        #expect(read(head.querier(mint: 0, maxt: 10_000), [.equal("__name__", "m")]).first?.1.map(\.1) == [1, 2])
        _ = try head.chunksForBlock(mint: 0, maxt: 3000)     // as when the range goes to a block
        head.truncate(before: 3000)
        #expect(head.stats.series == 0)
        #expect(throws: AppendError.unknownSeriesRef(handle.ref)) { try app.append(handle, 4000, 4) }
        let again = try app.appendReturningHandle(series("m"), 4000, 4)
        #expect(again.ref != handle.ref)
        try app.append(again, 5000, 5)
        try app.commit()
        #expect(read(head.querier(mint: 0, maxt: 10_000), [.equal("__name__", "m")]).first?.1.map(\.1) == [4, 5])
    }

    @Test func rollbackDropsEverything() throws {
        let head = Head()
        let app = head.appender()
        let ref = try app.append(series("x"), 1000, 1)
        app.rollback()
        try app.append(ref, 500, 5)      // earlier than the rolled-back sample: fine now
        try app.commit()
        let got = read(head.querier(mint: 0, maxt: .max), [.equal("__name__", "x")])
        #expect(got.count == 1 && got[0].1.map(\.0) == [500])
    }

    @Test func outOfOrderAndDuplicatesAreTypedAndCounted() throws {
        let head = Head()
        let app = head.appender()
        let ref = try app.append(series("x"), 1000, 1)
        try app.commit()
        #expect(throws: AppendError.outOfOrderSample) { try app.append(ref, 999, 1) }
        #expect(throws: AppendError.duplicateSampleForTimestamp) { try app.append(ref, 1000, 2) }
        try app.append(ref, 1000, 1)     // the same sample again is accepted
        try app.append(ref, 2000, 2)
        #expect(throws: AppendError.outOfOrderSample) { try app.append(ref, 1500, 2) }   // against pending
        #expect(throws: AppendError.duplicateSampleForTimestamp) { try app.append(ref, 2000, 3) }
        #expect(throws: AppendError.unknownSeriesRef(12345)) { try app.append(12345, 1, 1) }
        #expect(throws: AppendError.emptyLabels) { try app.append(Labels.empty, 1, 1) }
        try app.commit()
        let stats = head.stats
        #expect(stats.outOfOrderSamples == 2 && stats.duplicateSamples == 2 && stats.samplesAppended == 2)
        let got = read(head.querier(mint: 0, maxt: .max), [.equal("__name__", "x")])
        #expect(got[0].1.map(\.0) == [1000, 2000])
    }

    @Test func staleNaNIsADifferentValueFromNaN() throws {
        let head = Head()
        let app = head.appender()
        let ref = try app.append(series("x"), 1000, .nan)
        #expect(throws: AppendError.duplicateSampleForTimestamp) { try app.append(ref, 1000, staleNaN) }
        try app.append(ref, 2000, staleNaN)
        try app.commit()
        let got = read(head.querier(mint: 0, maxt: .max), [.equal("__name__", "x")])
        #expect(got[0].1.map { $0.1.bitPattern } == [Double.nan.bitPattern, staleNaN.bitPattern])
    }

    @Test func chunksAreCutBySizeAndAtRangeBoundaries() throws {
        let head = Head(options: HeadOptions(chunkSize: 120, chunkRange: 7_200_000))
        let app = head.appender()
        let ref = try app.append(series("x"), 0, 0)
        for i in 1..<1000 { try app.append(ref, Int64(i) * 15_000, Double(i)) }
        try app.commit()
        let chunks = try head.withSeries(ref) { $0?.chunks(mint: .min, maxt: .max) ?? [] }
        // 480 samples per 2h range: 120, 120, 120, 120 per range, then 40 left in the open chunk.
        #expect(chunks.count == 9)
        #expect(chunks.allSatisfy { floorDiv($0.minTime, 7_200_000) == floorDiv($0.maxTime, 7_200_000) })
        #expect(chunks.dropLast().allSatisfy { c in (try? c.chunk.header().count) == 120 })
        let got = read(head.querier(mint: 0, maxt: .max), [.equal("__name__", "x")])
        #expect(got[0].1.count == 1000)
        #expect(got[0].1.enumerated().allSatisfy { $0.element == (Int64($0.offset) * 15_000, Double($0.offset)) })
    }

    @Test func querierBoundsSortingAndLabels() throws {
        let head = Head()
        let app = head.appender()
        for job in ["b", "a", "c"] {
            for inst in ["2", "1"] {
                for t in stride(from: Int64(0), to: 100_000, by: 10_000) {
                    try app.append(series("req", ["job": job, "instance": inst]), t, Double(t))
                }
            }
        }
        try app.append(series("other", ["job": "a"]), 50_000, 1)
        try app.append(series("old", ["job": "z"]), 1, 1)
        try app.commit()
        let q = head.querier(mint: 25_000, maxt: 55_000)
        let got = read(q, [.equal("__name__", "req")])
        #expect(got.map { $0.0 } == got.map { $0.0 }.sorted())
        #expect(got.count == 6)
        #expect(got.allSatisfy { $0.1.map(\.0) == [30_000, 40_000, 50_000] })
        #expect(read(q, [try LabelMatcher(.regexMatch, "job", "a|b"), .equal("instance", "1")]).count == 2)
        #expect(read(q, [.equal("__name__", "req"), try LabelMatcher(.notEqual, "job", "a")]).count == 4)
        // {job=~".+", instance=""} picks series without an instance label.
        let noInstance = read(q, [try LabelMatcher(.regexMatch, "job", ".+"), .equal("instance", "")])
        #expect(noInstance.map { $0.0.metricName } == ["other"])   // "old" has no data in range
        #expect(q.labelNames([]) == ["__name__", "instance", "job"])
        #expect(q.labelNames([.equal("__name__", "other")]) == ["__name__", "job"])
        #expect(q.labelValues("job", []) == ["a", "b", "c", "z"])
        #expect(q.labelValues("instance", [.equal("job", "b")]) == ["1", "2"])
        // seek across chunks of the bounded iterator
        var it = ChunkSeries(labels: got[0].0, chunks: try head.withSeries(labels: got[0].0) { $0.chunks(mint: 25_000, maxt: 55_000) },
                             mint: 25_000, maxt: 55_000).iterator()
        let found = it.seek(to: 41_000)
        #expect(found && it.at().t == 50_000)
        let beyond = it.seek(to: 51_000)
        #expect(!beyond)
    }

    @Test func concurrentAppendersLoseNothing() async throws {
        let head = Head(options: HeadOptions(stripeCount: 16))
        let writers = 8, seriesPerWriter = 500, samples = 50
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<writers {
                group.addTask {
                    let app = head.appender()
                    var refs: [SeriesRef] = []
                    for s in 0..<seriesPerWriter {
                        // Half the series are shared by every writer; each writes its own times.
                        let owner = s % 2 == 0 ? "shared" : "w\(w)"
                        refs.append(try app.append(series("m", ["s": "\(s)", "owner": owner, "w": s % 2 == 0 ? "\(w)" : ""]),
                                                   0, 0))
                    }
                    try app.commit()
                    for t in 1..<samples {
                        for r in refs { try app.append(r, Int64(t) * 1000, Double(t)) }
                        try app.commit()
                    }
                }
            }
            try await group.waitForAll()
        }
        let total = writers * seriesPerWriter * samples
        #expect(head.stats.samplesAppended == total)
        #expect(head.stats.series == writers * seriesPerWriter)
        let got = read(head.querier(mint: .min, maxt: .max), [.equal("__name__", "m")])
        #expect(got.count == writers * seriesPerWriter)
        #expect(got.reduce(0) { $0 + $1.1.count } == total)
        #expect(got.allSatisfy { $0.1.count == samples })
    }
}
