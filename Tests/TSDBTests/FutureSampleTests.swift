import Foundation
import Synchronization
import Testing
import TestSupport
@testable import TSDB

/// Time at the door: a sample stamped past the clock's future window, or at a time the store
/// cannot represent, is refused and counted, wherever it comes from; no such sample can remove
/// history or stop ingestion.
@Suite(.serialized) struct FutureSampleTests {
    static let hour: Int64 = 3_600_000
    /// "Now" for these tests: a 2 h boundary, 30 hours after the history starts.
    static let now: Int64 = 1_790_000_000_000 - 1_790_000_000_000 % (2 * hour)
    static let start = now - 30 * hour

    static func options(clock: Int64 = now) -> DBOptions {
        var o = DBOptions()
        o.walSegmentSize = 256 << 10
        o.head.clock = { clock }
        return o
    }

    @Test func theHeadRefusesSamplesPastTheWindowAndUnrepresentableOnes() throws {
        var options = HeadOptions()
        options.clock = { Self.now }
        let head = Head(options: options)
        let app = head.appender()
        let labels = series("m")
        #expect(throws: AppendError.tooFarInFuture) { try app.append(labels, Self.now + options.maxFuture + 1, 1) }
        #expect(throws: AppendError.outOfBounds) { try app.append(labels, .min, 1) }
        #expect(throws: AppendError.outOfBounds) { try app.append(labels, HeadOptions.earliestTime - 1, 1) }
        #expect(throws: AppendError.tooFarInFuture) { try app.append(labels, .max, 1) }
        try app.append(labels, Self.now + options.maxFuture, 2)     // the window's edge is in
        try app.commit()
        #expect(head.stats.tooFarInFutureSamples == 2)
        #expect(head.stats.outOfBoundsSamples == 2)
        #expect(head.stats.samplesAppended == 1)
    }

    /// One sample 40 days ahead (as a backfill or a target with honor_timestamps can send):
    /// refused, and 30 hours of history stay, and samples of the present are still taken.
    @Test func oneFutureSampleRemovesNoHistory() throws {
        let dir = temporaryDirectory()
        defer { Files.remove(dir) }
        var db = try DB.open(directory: dir, options: Self.options())
        try append(db, from: Self.start, to: Self.now - Self.hour, step: 60_000)
        try db.compact()
        let blocks = db.blocks.count
        #expect(blocks >= 3)
        let app = db.appender()
        #expect(throws: AppendError.tooFarInFuture) { try app.append(series("m", ["k": "future"]), Self.now + 40 * 24 * Self.hour, 1) }
        try app.commit()
        try db.compact()
        #expect(db.blocks.count == blocks)
        try append(db, from: Self.now - Self.hour + 60_000, to: Self.now, step: 60_000)
        let samples = count(db, Self.start, Self.now)
        #expect(samples == Int((Self.now - Self.start) / 60_000) + 1)
        db.close()
        db = try DB.open(directory: dir, options: Self.options())
        defer { db.close() }
        #expect(count(db, Self.start, Self.now) == samples)
    }

    /// A WAL written by a store whose clock ran 40 days ahead (or by a version that took any
    /// timestamp): replay refuses those samples, counts them, and keeps the rest.
    @Test func replayRefusesWhatTheStoreNoLongerTakes() throws {
        let dir = temporaryDirectory()
        defer { Files.remove(dir) }
        var db = try DB.open(directory: dir, options: Self.options(clock: Self.now + 40 * 24 * Self.hour))
        let app = db.appender()
        try app.append(series("m"), Self.now - 60_000, 1)
        try app.append(series("m"), Self.now + 40 * 24 * Self.hour, 2)
        try app.append(series("n"), Self.now, 3)
        try app.commit()
        db.close()
        db = try DB.open(directory: dir, options: Self.options())
        defer { db.close() }
        #expect(db.replayStats.refusedSamples == 1)
        #expect(db.replayStats.samples == 2)
        #expect(db.head.stats.maxTime == Self.now)
        // Ingestion goes on at the present.
        let next = db.appender()
        try next.append(series("m"), Self.now + 1000, 4)
        try next.commit()
    }

    /// A block whose meta.json claims a time range the store cannot represent is left out
    /// (reported), instead of trapping in compaction arithmetic later.
    @Test func blocksWithUnrepresentableTimesAreLeftOut() throws {
        let dir = temporaryDirectory()
        defer { Files.remove(dir) }
        var db = try DB.open(directory: dir, options: Self.options())
        try append(db, from: Self.start, to: Self.start + 5 * Self.hour, step: 60_000)
        try db.compact()
        let block = try #require(db.blocks.first)
        db.close()
        let metaPath = block.directory + "/meta.json"
        let original = try String(contentsOfFile: metaPath, encoding: .utf8)
        let text = original.replacingOccurrences(of: "\"maxTime\" : \(block.meta.maxTime)", with: "\"maxTime\" : 9223372036854775807")
        #expect(text != original)
        try text.write(toFile: metaPath, atomically: true, encoding: .utf8)
        db = try DB.open(directory: dir, options: Self.options())
        defer { db.close() }
        #expect(db.blockProblems.count == 1)
        #expect(db.blockProblems.first?.contains("outside what the store can represent") == true)
        try db.compact()
    }

    func append(_ db: DB, from: Int64, to: Int64, step: Int64) throws {
        let app = db.appender()
        var t = from
        while t <= to {
            try app.append(series("m"), t, Double(t / step))
            t += step
        }
        try app.commit()
    }

    func count(_ db: DB, _ mint: Int64, _ maxt: Int64) -> Int {
        read(db.querier(mint: mint, maxt: maxt), [.equal("__name__", "m")]).reduce(0) { $0 + $1.1.count }
    }
}
