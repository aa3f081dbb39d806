import Foundation
import Testing
import TestSupport
@testable import TSDB
import Workloads


/// Every sample of every series, by labels.
func dump(_ db: DB) -> [Labels: [(Int64, UInt64)]] {
    var out: [Labels: [(Int64, UInt64)]] = [:]
    for (l, samples) in read(db.querier(mint: .min, maxt: .max), [try! LabelMatcher(.regexMatch, "__name__", ".+")]) {
        out[l] = samples.map { ($0.0, $0.1.bitPattern) }
    }
    return out
}

@Suite struct WALTests {
    @Test func commitsSurviveReopen() throws {
        let dir = temporaryDirectory()
        defer { Files.remove(dir) }
        var db = try DB.open(directory: dir)
        let app = db.appender()
        let ref = try app.append(series("a", ["x": "1"]), 1000, staleNaN)
        try app.append(ref, 2000, -0.0)
        try app.append(series("b"), 1500, .infinity)
        try app.commit()
        try app.append(ref, 3000, 3)
        app.rollback()                        // never logged
        let before = dump(db)
        db.close()
        db = try DB.open(directory: dir)
        #expect(db.replayStats.corruptions == 0)
        #expect(db.replayStats.samples == 3)
        let after = dump(db)
        #expect(after.keys.sorted() == before.keys.sorted())
        for k in before.keys { #expect(after[k]!.map(\.0) == before[k]!.map(\.0) && after[k]!.map(\.1) == before[k]!.map(\.1)) }
        // Refs are kept: appending by the old ref goes to the same series.
        let app2 = db.appender()
        try app2.append(ref, 4000, 4)
        try app2.commit()
        #expect(dump(db)[series("a", ["x": "1"])]?.map(\.0) == [1000, 2000, 4000])
        db.close()
    }

    @Test func secondOpenOfADirectoryFailsAtOnce() throws {
        let dir = temporaryDirectory()
        defer { Files.remove(dir) }
        let db = try DB.open(directory: dir)
        #expect {
            _ = try DB.open(directory: dir)
        } throws: { error in
            guard case DBError.locked = error else { return false }
            return "\(error)".contains("in use by another process")
        }
        db.close()
        let again = try DB.open(directory: dir)
        again.close()
    }

    /// Writes `commits` commits, each in its own WAL write; returns the segment size after each.
    func writeCommits(_ dir: String, commits: Int, segmentSize: Int = 128 << 20) throws -> [Int] {
        var options = DBOptions()
        options.walSegmentSize = segmentSize
        let db = try DB.open(directory: dir, options: options)
        defer { db.close() }
        let app = db.appender()
        var ends: [Int] = []
        for c in 0..<commits {
            for s in 0..<(1 + c % 3) {
                try app.append(series("m", ["s": "\(s)"]), Int64(c) * 1000, Double(c))
            }
            try app.commit()
            ends.append(Files.size(WAL.segmentPath(dir + "/wal", 0)) ?? 0)
        }
        return ends
    }

    @Test func tornAndCorruptTailsAreTruncatedKeepingWhatCameBefore() throws {
        var rng = SplitMix64(seed: 11)
        for round in 0..<40 {
            let dir = temporaryDirectory()
            defer { Files.remove(dir) }
            let ends = try writeCommits(dir, commits: 30)
            let segment = WAL.segmentPath(dir + "/wal", 0)
            var bytes = try Files.readAll(segment)
            let damage = Int(rng.next() % UInt64(bytes.count))
            if round % 2 == 0 {
                bytes.removeLast(bytes.count - damage)               // torn tail
            } else {
                bytes[damage] ^= UInt8(truncatingIfNeeded: 1 | rng.next())   // flipped byte
            }
            try Files.write(bytes, to: segment)
            let db = try DB.open(directory: dir)
            defer { db.close() }
            let kept = ends.filter { $0 <= damage }.count
            #expect(db.replayStats.corruptions == (round % 2 == 0 && ends.contains(damage) ? 0 : 1))
            if db.replayStats.corruptions == 1 {
                #expect(db.replayStats.problems.count == 1)
                #expect(db.replayStats.droppedBytes > 0)
            }
            let times = Set(dump(db).values.flatMap { $0.map(\.0) })
            #expect(times == Set((0..<kept).map { Int64($0) * 1000 }), "round \(round), damage at \(damage)")
            // The truncated log takes new commits and replays them after the damage point.
            let app = db.appender()
            try app.append(series("after"), 1, 1)
            try app.commit()
        }
    }

    @Test func corruptionInAnEarlierSegmentDropsTheLaterOnes() throws {
        let dir = temporaryDirectory()
        defer { Files.remove(dir) }
        _ = try writeCommits(dir, commits: 200, segmentSize: 1024)
        let segments = WAL.segmentIndices(in: dir + "/wal")
        #expect(segments.count > 4)
        let victim = WAL.segmentPath(dir + "/wal", segments[2])
        var bytes = try Files.readAll(victim)
        bytes[bytes.count / 2] ^= 0xff
        try Files.write(bytes, to: victim)
        let db = try DB.open(directory: dir)
        defer { db.close() }
        #expect(db.replayStats.corruptions == 1)
        // Segments after the damaged one are gone; writing resumes in a fresh segment after it.
        #expect(WAL.segmentIndices(in: dir + "/wal") == Array(segments[0...2]) + [segments[2] + 1])
        #expect(db.replayStats.samples > 0)
    }

    /// A segment that cannot be read is an error, not damage: the open fails, and no segment
    /// is truncated or removed; once the cause is gone, everything is replayed.
    @Test func unreadableSegmentFailsTheOpenAndTouchesNothing() throws {
        let dir = temporaryDirectory()
        defer { Files.remove(dir) }
        _ = try writeCommits(dir, commits: 200, segmentSize: 1024)
        let wal = dir + "/wal"
        let segments = WAL.segmentIndices(in: wal)
        let sizes = segments.map { Files.size(WAL.segmentPath(wal, $0)) }
        let victim = WAL.segmentPath(wal, segments[2])
        let saved = try Files.readAll(victim)
        // read(2) of a directory fails with EISDIR: an I/O error as far as the reader knows
        // (and one that a root test process cannot be denied by permissions).
        Files.remove(victim)
        try Files.makeDirectory(victim)
        #expect {
            _ = try DB.open(directory: dir)
        } throws: { error in
            guard case DBError.io(let e) = error else { return false }
            return e.path == victim && e.operation == "read"
        }
        #expect(WAL.segmentIndices(in: wal) == segments)
        for (i, s) in segments.enumerated() where s != segments[2] {
            #expect(Files.size(WAL.segmentPath(wal, s)) == sizes[i], "segment \(s) untouched")
        }
        Files.remove(victim)
        try Files.write(saved, to: victim)
        let db = try DB.open(directory: dir)
        defer { db.close() }
        #expect(db.replayStats.corruptions == 0)
        #expect(Set(dump(db).values.flatMap { $0.map(\.0) }) == Set((0..<200).map { Int64($0) * 1000 }))
    }

    /// Damage in a closed segment found by a checkpoint: the checkpoint is not written, no
    /// segment is removed, the head keeps every sample, and compaction goes on.
    @Test func checkpointKeepsSegmentsWhenOneIsDamaged() throws {
        let dir = temporaryDirectory()
        defer { Files.remove(dir) }
        var options = DBOptions()
        options.walSegmentSize = 1024
        options.blockRange = 10_000
        let db = try DB.open(directory: dir, options: options)
        defer { db.close() }
        let app = db.appender()
        for t in stride(from: Int64(0), to: 40_000, by: 500) {
            for s in 0..<3 { try app.append(series("m", ["s": "\(s)"]), t, Double(t)) }
            try app.commit()
        }
        let wal = dir + "/wal"
        let segments = WAL.segmentIndices(in: wal)
        #expect(segments.count >= 3)
        let victim = WAL.segmentPath(wal, segments[1])
        var bytes = try Files.readAll(victim)
        bytes[bytes.count / 2] ^= 0xff
        try Files.write(bytes, to: victim)
        try db.compact()
        #expect(db.checkpointFailureCount >= 1)
        #expect(Files.exists(victim), "the damaged segment is kept")
        #expect(db.blocks.count >= 1, "blocks are still cut")
        let times = Set(dump(db).values.flatMap { $0.map(\.0) })
        #expect(times == Set(stride(from: Int64(0), to: 40_000, by: 500)))
    }
}
