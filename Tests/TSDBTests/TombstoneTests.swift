import Foundation
import Testing
import TestSupport
import Workloads
@testable import TSDB

@Suite(.serialized) struct TombstoneTests {
    @Test func intervalsMerge() {
        var list: [DeletedInterval] = []
        Intervals.add(.init(minTime: 10, maxTime: 20), to: &list)
        Intervals.add(.init(minTime: 30, maxTime: 40), to: &list)
        Intervals.add(.init(minTime: 21, maxTime: 29), to: &list)     // touches both: one interval
        #expect(list == [.init(minTime: 10, maxTime: 40)])
        Intervals.add(.init(minTime: .min, maxTime: -5), to: &list)
        Intervals.add(.init(minTime: 100, maxTime: .max), to: &list)
        #expect(list.count == 3 && list.first?.minTime == .min && list.last?.maxTime == .max)
        #expect(Intervals.contains(list, 15) && !Intervals.contains(list, 50) && Intervals.contains(list, .max))
    }

    @Test func deletionsHideSamplesAcrossRestartCompactionAndCleaning() throws {
        var rng = SplitMix64(seed: 17)
        let dir = temporaryDirectory()
        defer { Files.remove(dir) }
        var db = try DB.open(directory: dir, options: smallOptions())
        try fillRandom(db, series: 6, from: 0, hours: 8, step: 60_000, rng: &rng)
        try db.compact()                      // some data in blocks, the rest in the head
        #expect(!db.blocks.isEmpty)
        let before = dump(db)
        let victim = [LabelMatcher.equal("__name__", "rand"), .equal("kind", "odd")]
        let (lo, hi): (Int64, Int64) = (3_000_000, 25_000_000)   // spans blocks and head
        try db.delete(victim, mint: lo, maxt: hi)
        func check(_ db: DB, _ when: Comment) {
            let now = dump(db)
            for (labels, samples) in before {
                let gone = labels["kind"] == "odd"
                let want = gone ? samples.filter { $0.0 < lo || $0.0 > hi } : samples
                #expect(now[labels]?.map(\.0) ?? [] == want.map(\.0), when)
            }
        }
        check(db, "right after delete")
        db.close()
        db = try DB.open(directory: dir, options: smallOptions())
        check(db, "after restart")
        #expect(db.blocks.contains { $0.hasTombstones })
        try db.cleanTombstones()
        #expect(!db.blocks.contains { $0.hasTombstones })
        check(db, "after clean_tombstones")
        try fillRandom(db, series: 6, from: 8 * 3_600_000, hours: 4, step: 60_000, rng: &rng)
        let extended = dump(db)
        try db.compact()                      // the head's deleted range goes into a block without it
        expectSameData(extended, dump(db), "compaction keeps deletions")
        db.close()
    }

    @Test func snapshotHoldsBlocksAndHead() throws {
        var rng = SplitMix64(seed: 23)
        let dir = temporaryDirectory()
        defer { Files.remove(dir) }
        let db = try DB.open(directory: dir, options: smallOptions())
        try fillRandom(db, series: 4, from: 0, hours: 6, step: 60_000, rng: &rng)
        try db.compact()
        let all = dump(db)
        let target = dir + "/snapshots/s1"
        try db.snapshot(into: target, includeHead: true)
        db.close()
        // The snapshot directory opens as a store of its own with the same data.
        let copy = try DB.open(directory: target, options: smallOptions())
        expectSameData(all, dump(copy), "snapshot")
        copy.close()
    }
}
