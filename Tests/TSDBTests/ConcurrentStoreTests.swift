import Dispatch
import Foundation
import Synchronization
import Testing
import TestSupport
@testable import TSDB
import Workloads

/// The store read from many threads while one thread appends, cuts the head into blocks,
/// merges blocks and applies retention: every read of a range already written must see every
/// series with every sample, whichever of head and blocks holds them at that moment.
@Suite struct ConcurrentStoreTests {
    static let series = 300
    static let step: Int64 = 100

    static func value(_ i: Int, _ t: Int64) -> Double { Double(t / step) * 1000 + Double(i) }

    static func labels(_ i: Int) -> Labels {
        Labels(["__name__": "c", "series": String(i), "shard": "s\(i % 8)"])
    }

    @Test func readersSeeEverySampleWhileTheStoreCompacts() async throws {
        let dir = NSTemporaryDirectory() + "sextant-concurrent-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = DBOptions()
        options.blockRange = 2_000
        options.maxBlockDuration = 6_000
        options.retentionTime = 30_000
        let db = try DB.open(directory: dir, options: options)
        defer { db.close() }
        let ticks: Int64 = Int64(ProcessInfo.processInfo.environment["SEXTANT_CONCURRENT_TICKS"].flatMap(Int.init) ?? 1500)
        let written = Atomic<Int64>(-1)
        let done = Atomic<Bool>(false)
        let failures = Locked<[String]>([])
        let reads = Atomic<Int>(0)
        let readers = 6

        await onThreads(readers + 1) { k in
            if k == 0 {
                defer { done.store(true, ordering: .sequentiallyConsistent) }
                do {
                    try Self.write(db, ticks: ticks, written: written)
                } catch {
                    failures.withLock { $0.append("writer: \(error)") }
                }
                return
            }
            var rng = SplitMix64(seed: UInt64(k))
            while !done.load(ordering: .sequentiallyConsistent) {
                let w = written.load(ordering: .sequentiallyConsistent)
                guard w >= 0 else { continue }
                // Inside the retained range: retention keeps 30 s before the newest sample.
                let maxt = w - Int64.random(in: 0...20, using: &rng) * Self.step
                let mint = max(0, maxt - Int64.random(in: 0...100, using: &rng) * Self.step, w - 20_000)
                guard maxt >= mint else { continue }
                if let problem = Self.check(db, mint: mint, maxt: maxt, kind: Int.random(in: 0..<3, using: &rng)) {
                    failures.withLock { if $0.count < 20 { $0.append(problem) } }
                }
                reads.add(1, ordering: .relaxed)
            }
        }
        let found = failures.withLock { $0 }
        #expect(found.isEmpty, "\(found.joined(separator: "\n"))")
        #expect(reads.load(ordering: .relaxed) > readers)
        #expect(db.blocks.count > 1)
    }

    /// One block read by many threads at once, each read checked against the block's series:
    /// SQLite connections and their statements are never shared by two threads.
    @Test func oneBlockReadFromManyThreads() async throws {
        let dir = NSTemporaryDirectory() + "sextant-concurrent-block-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = DBOptions()
        options.blockRange = 2_000
        let db = try DB.open(directory: dir, options: options)
        defer { db.close() }
        try Self.write(db, ticks: 40, written: Atomic<Int64>(0))
        let block = try #require(db.blocks.first)
        let failures = Locked<[String]>([])
        await onThreads(8) { k in
            for round in 0..<150 {
                let shard = (k + round) % 8
                let q = block.querier(mint: .min, maxt: .max)
                let (found, error) = q.selectSeries(round % 2 == 0 ? [.equal("shard", "s\(shard)")] : [.equal("__name__", "c")])
                let expected = round % 2 == 0 ? (0..<Self.series).filter { $0 % 8 == shard }.count : Self.series
                let values = q.labelValues("shard", [])
                if error != nil || found.count != expected || values.count != 8 {
                    failures.withLock { $0.append("thread \(k) round \(round): \(found.count) of \(expected), \(values.count) values, \(String(describing: error))") }
                    return
                }
            }
        }
        let found = failures.withLock { $0 }
        #expect(found.isEmpty, "\(found.joined(separator: "\n"))")
    }

    /// Appends every series at each tick, compacting every 10 ticks (a block every 20 ticks).
    static func write(_ db: DB, ticks: Int64, written: borrowing Atomic<Int64>) throws {
        let app = db.appender()
        var refs: [SeriesRef] = []
        for k in 0..<ticks {
            let t = k * step
            for i in 0..<series {
                if k == 0 {
                    refs.append(try app.append(labels(i), t, value(i, t)))
                } else {
                    do {
                        try app.append(refs[i], t, value(i, t))
                    } catch AppendError.unknownSeriesRef {
                        refs[i] = try app.append(labels(i), t, value(i, t))
                    }
                }
            }
            try app.commit()
            written.store(t, ordering: .sequentiallyConsistent)
            if k % 10 == 9 { try db.compact() }
        }
    }

    /// One read of [mint, maxt]: samples of every series (kind 0), label values (1), or the
    /// samples of one shard's series (2), checked against what was written.
    static func check(_ db: DB, mint: Int64, maxt: Int64, kind: Int) -> String? {
        let q = db.querier(mint: mint, maxt: maxt)
        switch kind {
        case 1:
            let values = q.labelValues("series", [.equal("__name__", "c")])
            return values.count == series ? nil : "[\(mint), \(maxt)]: \(values.count) label values of \(series)"
        default:
            let matchers: [LabelMatcher] = kind == 0 ? [.equal("__name__", "c")] : [.equal("shard", "s3")]
            let expected = kind == 0 ? series : series / 8 + (series % 8 > 3 ? 1 : 0)
            var set = q.select(matchers, hints: nil)
            var n = 0
            while set.next() {
                let s = set.at()
                guard let i = s.labels["series"].flatMap(Int.init) else { return "unexpected series \(s.labels)" }
                var it = s.makeIterator()
                var t = mint
                while it.next() {
                    let (st, sv) = it.at()
                    if st != t || sv != value(i, st) { return "[\(mint), \(maxt)] series \(i): (\(st), \(sv)) where \(t) was expected" }
                    t += step
                }
                if let e = it.error { return "[\(mint), \(maxt)] series \(i): \(e)" }
                if t != maxt + step { return "[\(mint), \(maxt)] series \(i) ends before \(t)" }
                n += 1
            }
            if let e = set.error { return "[\(mint), \(maxt)]: \(e)" }
            return n == expected ? nil : "[\(mint), \(maxt)]: \(n) series of \(expected)"
        }
    }
}
