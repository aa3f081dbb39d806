import Testing
@testable import TSDB
import Workloads

/// Storage's `MergeQuerier` over stores that know nothing of each other (two heads here, a
/// local store and a remote one in use): the same series from both joined, each timestamp
/// once with the first querier's sample, label queries unioned, errors passed on.
@Suite struct MergeQuerierTests {
    /// A querier that finds nothing and reports an error, as a remote store that failed would.
    struct FailingQuerier: Querier {
        struct Failure: Error, Equatable { let reason: String }
        let mint: Int64 = .min
        let maxt: Int64 = .max
        func select(_ matchers: [LabelMatcher], hints: SelectHints?) -> any SeriesSet {
            ListSeriesSet([], error: Failure(reason: "remote down"))
        }
        func labelNames(_ matchers: [LabelMatcher]) -> [String] { ["remote_only"] }
        func labelValues(_ name: String, _ matchers: [LabelMatcher]) -> [String] { ["r"] }
    }

    @Test func sameSeriesFromTwoStoresIsJoinedFirstQuerierWinning() throws {
        let a = Head(), b = Head()
        let shared = series("temp", ["room": "x"])
        let appA = a.appender(), appB = b.appender()
        // a: 1000, 2000 (stale marker), 3000 (-0.0); b: 2000 (other value), 2500 (NaN), 4000 (+Inf).
        try appA.append(shared, 1000, 1)
        try appA.append(shared, 2000, staleMarker)
        try appA.append(shared, 3000, -0.0)
        try appB.append(shared, 2000, 99)
        try appB.append(shared, 2500, .nan)
        try appB.append(shared, 4000, .infinity)
        try appA.append(series("temp", ["room": "a-only"]), 1000, 5)
        try appB.append(series("temp", ["room": "b-only"]), 1000, 6)
        try appA.commit()
        try appB.commit()

        let merged = MergeQuerier([a.querier(mint: 0, maxt: 10_000), b.querier(mint: 0, maxt: 10_000)], mint: 0, maxt: 10_000)
        let got = read(merged, [.equal("__name__", "temp")])
        #expect(got.map { $0.0["room"] } == ["a-only", "b-only", "x"])
        let x = got[2].1
        #expect(x.map(\.0) == [1000, 2000, 2500, 3000, 4000])
        #expect(x[1].1.bitPattern == staleMarker.bitPattern, "a's stale marker wins over b's 99 at 2000")
        #expect(x[2].1.isNaN && x[2].1.bitPattern != staleMarker.bitPattern)
        #expect(x[3].1.bitPattern == (-0.0 as Double).bitPattern)
        #expect(x[4].1 == .infinity)

        // The other order: b's sample wins at 2000.
        let reversed = MergeQuerier([b.querier(mint: 0, maxt: 10_000), a.querier(mint: 0, maxt: 10_000)], mint: 0, maxt: 10_000)
        #expect(read(reversed, [.equal("room", "x")])[0].1[1].1 == 99)

        #expect(merged.labelValues("room", []) == ["a-only", "b-only", "x"])
        #expect(merged.labelNames([]) == ["__name__", "room"])
    }

    @Test func aFailingSourceIsReportedAndTheOthersStillAnswer() throws {
        let a = Head()
        let app = a.appender()
        try app.append(series("up"), 1000, 1)
        try app.commit()
        let merged = MergeQuerier([a.querier(mint: 0, maxt: 10_000), FailingQuerier()], mint: 0, maxt: 10_000)
        var set = merged.select([.equal("__name__", "up")], hints: nil)
        let first = set.next()
        #expect(first && set.at().labels == series("up"))
        let more = set.next()
        #expect(!more)
        #expect((set.error as? FailingQuerier.Failure) == FailingQuerier.Failure(reason: "remote down"))
        #expect(merged.labelNames([]) == ["__name__", "remote_only"])
    }

    /// Random series spread over three stores (some in several, with timestamps in common):
    /// the merge equals a merge computed by hand, series by series and sample by sample.
    @Test(arguments: [1, 2, 3, 42]) func mergeAgreesWithAMergeByHand(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let stores = [Head(), Head(), Head()]
        var expected: [Labels: [Int64: Double]] = [:]
        for (k, store) in stores.enumerated() {
            let app = store.appender()
            for s in 0..<40 where rng.next() % 3 != 0 {
                let labels = series("m", ["s": "\(s)", "group": "\(s % 4)"])
                var t: Int64 = Int64(rng.next() % 5) * 1000
                for _ in 0..<Int(rng.next() % 30) {
                    let v = Double(rng.next() % 1000) / 8
                    try app.append(labels, t, v)
                    // An earlier store's sample at the same time stays.
                    if expected[labels, default: [:]][t] == nil { expected[labels, default: [:]][t] = v }
                    t += Int64(1 + rng.next() % 3) * 1000
                }
            }
            try app.commit()
            _ = k
        }
        let merged = MergeQuerier(stores.map { $0.querier(mint: .min, maxt: .max) }, mint: .min, maxt: .max)
        let got = read(merged, [.equal("__name__", "m")])
        let want = expected.filter { !$0.value.isEmpty }.sorted { Labels.compare($0.key, $1.key) < 0 }
        #expect(got.map(\.0) == want.map(\.key))
        for ((labels, samples), (_, byTime)) in zip(got, want) {
            let times = byTime.keys.sorted()
            #expect(samples.map(\.0) == times, "\(labels)")
            #expect(samples.map(\.1) == times.map { byTime[$0] ?? .nan }, "\(labels)")
        }
        // Seeking inside a joined series lands where a walk would.
        for (labels, samples) in got where samples.count > 2 {
            var set = merged.select(labels.map { .equal($0.name, $0.value) }, hints: nil)
            let found = set.next()
            #expect(found)
            var it = set.at().makeIterator()
            let target = samples[samples.count / 2].0 - 1
            let sought = it.seek(to: target)
            #expect(sought)
            #expect(it.at().t == samples.first { $0.0 >= target }?.0)
        }
    }
}
