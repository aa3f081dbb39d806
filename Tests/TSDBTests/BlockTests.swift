import Foundation
import Testing
import TestSupport
@testable import TSDB
import Workloads

/// Appends random scrape-like data: `series` series over `hours` hours at roughly `step` ms.
/// A store in `dir` filled with random series every 30 s and compacted into blocks.
func compactedRandomDB(in dir: String, seed: UInt64, series: Int, hours: Int64) throws -> DB {
    var rng = SplitMix64(seed: seed)
    let db = try DB.open(directory: dir)
    try fillRandom(db, series: series, from: 0, hours: hours, step: 30_000, rng: &rng)
    try db.compact()
    return db
}

func fillRandom(_ db: DB, series count: Int, from start: Int64, hours: Int64, step: Int64, rng: inout SplitMix64) throws {
    let app = db.appender()
    var t = start
    let end = start + hours * 3_600_000
    var values = (0..<count).map { _ in Double(rng.next() % 1000) }
    while t < end {
        for s in 0..<count where rng.next() % 10 != 0 {        // some scrapes miss
            values[s] += Double(rng.next() % 5)
            let v = rng.next() % 50 == 0 ? staleNaN : values[s]
            try app.append(series("rand", ["s": "\(s)", "kind": s % 2 == 0 ? "even" : "odd"]), t + Int64(s), v)
        }
        try app.commit()
        t += step + Int64(rng.next() % 100)
    }
}

func expectSameData(_ a: [Labels: [(Int64, UInt64)]], _ b: [Labels: [(Int64, UInt64)]], _ comment: Comment,
                    sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.keys.sorted() == b.keys.sorted(), comment, sourceLocation: sourceLocation)
    for (k, samples) in a {
        let other = b[k] ?? []
        #expect(samples.map(\.0) == other.map(\.0) && samples.map(\.1) == other.map(\.1),
                "\(comment): \(k) has \(samples.count) samples against \(other.count)", sourceLocation: sourceLocation)
    }
}

func smallOptions() -> DBOptions {
    var o = DBOptions()
    o.walSegmentSize = 256 << 10
    return o
}

@Suite(.serialized) struct BlockTests {
    @Test(arguments: [99, 1234, 777] as [UInt64])
    func queriesAgreeBeforeAndAfterCompactionRestartAndRetention(_ seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let dir = temporaryDirectory()
        defer { Files.remove(dir) }
        var db = try DB.open(directory: dir, options: smallOptions())
        let start: Int64 = 1_700_000_000_000 - 1_700_000_000_000 % 7_200_000
        try fillRandom(db, series: 12, from: start, hours: 20, step: 60_000, rng: &rng)
        let original = dump(db)
        var ranges: [(Int64, Int64)] = [(start + 3_000_000, start + 9_000_000), (start, start + 20 * 3_600_000), (start + 7_199_999, start + 7_200_000)]
        for _ in 0..<20 {
            let a = start + Int64(rng.next() % (20 * 3_600_000)), b = a + Int64(rng.next() % (6 * 3_600_000))
            ranges.append((a, b))
        }
        func slices(_ db: DB) -> [[Labels: [(Int64, UInt64)]]] {
            ranges.map { r in
                var out: [Labels: [(Int64, UInt64)]] = [:]
                for (l, s) in read(db.querier(mint: r.0, maxt: r.1), [.equal("__name__", "rand"), .equal("kind", "odd")]) {
                    out[l] = s.map { ($0.0, $0.1.bitPattern) }
                }
                return out
            }
        }
        let originalSlices = slices(db)

        try db.compact()
        #expect(db.blocks.count >= 2)
        #expect(db.blocks.contains { $0.meta.compaction.level > 1 }, "2h blocks were merged")
        #expect(Checkpoint.latest(in: dir + "/wal") != nil)
        expectSameData(original, dump(db), "after compaction")
        for (a, b) in zip(originalSlices, slices(db)) { expectSameData(a, b, "range after compaction") }

        db.close()
        db = try DB.open(directory: dir, options: smallOptions())
        #expect(db.replayStats.corruptions == 0 && db.blockProblems.isEmpty)
        expectSameData(original, dump(db), "after restart")
        for (a, b) in zip(originalSlices, slices(db)) { expectSameData(a, b, "range after restart") }

        // New data after the restart keeps flowing into the head, then into blocks.
        try fillRandom(db, series: 12, from: start + 20 * 3_600_000, hours: 4, step: 60_000, rng: &rng)
        let extended = dump(db)
        try db.compact()
        expectSameData(extended, dump(db), "after a second compaction")

        // Retention of untouched ranges: drop blocks wholly older than 10h before the newest.
        db.close()
        var options = smallOptions()
        options.retentionTime = 10 * 3_600_000
        db = try DB.open(directory: dir, options: options)
        try db.compact()
        let cutoff = db.blocks.first?.meta.minTime ?? .max
        #expect(cutoff > start)
        for (labels, samples) in extended {
            let kept = samples.filter { $0.0 >= cutoff }
            #expect(dump(db)[labels]?.map(\.0) == kept.map(\.0))
        }
        db.close()
    }

    @Test func compactionBesideAppendsAndQueriesLosesNothing() async throws {
        let dir = temporaryDirectory()
        defer { Files.remove(dir) }
        let db = try DB.open(directory: dir, options: smallOptions())
        let rounds = 12 * 60
        let writer = Task.detached {
            let app = db.appender()
            for r in 0..<rounds {
                for s in 0..<10 { try app.append(series("live", ["s": "\(s)"]), Int64(r) * 60_000, Double(r * 10 + s)) }
                try app.commit()
            }
        }
        let compactor = Task.detached {
            var passes = 0
            while passes < 400 {
                try db.compact()
                _ = read(db.querier(mint: .min, maxt: .max), [.equal("__name__", "live")])
                passes += 1
                if passes > 20, db.head.stats.maxTime >= Int64(rounds - 1) * 60_000 { break }
            }
        }
        try await writer.value
        try await compactor.value
        try db.compact()
        #expect(!db.blocks.isEmpty)
        let got = read(db.querier(mint: .min, maxt: .max), [.equal("__name__", "live")])
        #expect(got.count == 10)
        for (labels, samples) in got {
            let s = Int(labels["s"] ?? "") ?? -1
            #expect(samples.map(\.0) == (0..<rounds).map { Int64($0) * 60_000 })
            #expect(samples.map(\.1) == (0..<rounds).map { Double($0 * 10 + s) })
        }
        db.close()
    }

    @Test func sizeRetentionDeletesOldestBlocksFirst() throws {
        var rng = SplitMix64(seed: 5)
        let dir = temporaryDirectory()
        defer { Files.remove(dir) }
        var options = smallOptions()
        options.retentionTime = 1000 * 3_600_000     // merges up to 100h windows
        let db = try DB.open(directory: dir, options: options)
        try fillRandom(db, series: 30, from: 0, hours: 12, step: 15_000, rng: &rng)
        try db.compact()
        let before = db.blocks
        #expect(before.count >= 1)
        db.close()
        options.retentionSize = db.size - (before.first?.size ?? 0) / 2
        let again = try DB.open(directory: dir, options: options)
        try again.compact()
        #expect(!again.blocks.contains { $0.meta.ulid == before.first?.meta.ulid })
        #expect(again.size <= options.retentionSize!)
        again.close()
    }

    @Test func indexIsReadableWithSQL() throws {
        let dir = temporaryDirectory()
        defer { Files.remove(dir) }
        let db = try compactedRandomDB(in: dir, seed: 7, series: 4, hours: 4)
        let block = try #require(db.blocks.first)
        let sql = try SQLiteDatabase(path: block.directory + "/index.db", readOnly: true)
        let s = try sql.prepare("SELECT labels FROM series_readable ORDER BY id")
        var labels: [String] = []
        while try s.step() { labels.append(s.text(0)) }
        #expect(labels == labels.sorted())
        #expect(labels.first == #"{__name__="rand",kind="even",s="0"}"#)
        let p = try sql.prepare("SELECT count(*) FROM postings_readable WHERE name = 'kind'")
        _ = try p.step()
        #expect(p.int64(0) == 2)
        #expect(block.meta.stats.numSeries == 4)
        db.close()
    }

    @Test(arguments: ["meta", "index", "chunks", "chunkbytes"])
    func damagedBlockIsReportedAndLeftOut(_ damage: String) throws {
        let dir = temporaryDirectory()
        defer { Files.remove(dir) }
        var db = try compactedRandomDB(in: dir, seed: 13, series: 5, hours: 8)
        let victim = try #require(db.blocks.first)
        let healthy = db.blocks.dropFirst().map(\.meta.ulid)
        db.close()
        switch damage {
        case "meta": Files.remove(victim.directory + "/meta.json")
        case "index": try Files.write(Array("not a database at all, just text".utf8), to: victim.directory + "/index.db")
        case "chunks": try Files.write([1, 2, 3], to: victim.directory + "/chunks/000001")
        default:
            var bytes = try Files.readAll(victim.directory + "/chunks/000001")
            bytes[bytes.count / 2] ^= 0x55
            try Files.write(bytes, to: victim.directory + "/chunks/000001")
        }
        db = try DB.open(directory: dir)
        defer { db.close() }
        if damage == "chunkbytes" {
            // The block opens; reading the damaged chunk reports an error instead of wrong data.
            var set = db.querier(mint: .min, maxt: .max).select([.equal("__name__", "rand")], hints: nil)
            var errors = 0
            while set.next() {
                var it = set.at().makeIterator()
                while it.next() {}
                if let e = it.error { errors += 1; #expect("\(e)".contains("checksum")) }
            }
            #expect(errors == 1, "only the damaged chunk's series reports an error")
        } else {
            #expect(db.blockProblems.count == 1)
            #expect(db.blockProblems[0].contains(victim.meta.ulid))
            #expect(db.blocks.map(\.meta.ulid) == healthy)
            // What remains is still served.
            #expect(!dump(db).isEmpty)
        }
    }
}

@Suite struct BlockIndexLabelsTests {
    let symbols = ["__name__", "up", "job", "api", "instance", "a:1"] + (0..<300).map { "s\($0)" }
    var lookup: (Int64) -> String? { { id in id >= 0 && id < symbols.count ? symbols[Int(id)] : nil } }

    @Test func labelsRoundTripAndMalformedBytesAreRefused() {
        let ids = Dictionary(uniqueKeysWithValues: symbols.enumerated().map { ($1, Int64($0)) })
        for labels in [Labels(["__name__": "up", "job": "api", "instance": "a:1"]), Labels(["job": "api"]), Labels.empty,
                       Labels(["__name__": "s250", "s299": "s128"])] {       // ids past one varint byte
            let bytes = BlockIndexSchema.encodeLabels(labels, ids)
            #expect(bytes.withUnsafeBytes { BlockIndexSchema.decodeLabels($0, symbol: lookup) } == labels, "\(bytes)")
        }
        for bad: [UInt8] in [[0], [0, 1, 2], [0x80], [0, 0x80], [0, 9 + 0x80, 0x7f], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1]] {
            #expect(bad.withUnsafeBytes { BlockIndexSchema.decodeLabels($0, symbol: lookup) } == nil, "\(bad)")
        }
    }

    /// Indexes written before kept labels as JSON text; they read as they always did.
    @Test func olderJSONLabelsStillRead() {
        #expect(BlockIndexSchema.decodeLabels(json: "[0,1,4,5,2,3]", symbol: lookup) == Labels(["__name__": "up", "job": "api", "instance": "a:1"]))
        #expect(BlockIndexSchema.decodeLabels(json: "[]", symbol: lookup) == Labels.empty)
        for bad in ["", "[", "]", "[0]", "[0,1,]", "[,0,1]", "[0,,1]", "[0,1", "0,1]", "[0,9999]", "[0,1x]", "[-1,1]",
                    "[0,1,2]", "[99999999999999999999,1]"] {
            #expect(BlockIndexSchema.decodeLabels(json: bad, symbol: lookup) == nil, "\(bad)")
        }
    }

    /// A block whose index holds JSON labels (as written before) serves the same samples.
    @Test func blocksWithJSONLabelsServeTheSameData() throws {
        let dir = temporaryDirectory()
        defer { Files.remove(dir) }
        var db = try compactedRandomDB(in: dir, seed: 17, series: 6, hours: 4)
        let before = dump(db)
        let blocks = db.blocks.map(\.directory)
        db.close()
        for block in blocks {
            let sql = try SQLiteDatabase(path: block + "/index.db", readOnly: false)
            let rows = try sql.prepare("SELECT id, labels FROM series")
            var json: [(Int64, String)] = []
            while try rows.step() {
                var c = ByteCursor(rows.blob(1))
                var ids: [String] = []
                while c.remaining > 0, let v = c.readUnsigned() { ids.append(String(v)) }
                json.append((rows.int64(0), "[" + ids.joined(separator: ",") + "]"))
            }
            let update = try sql.prepare("UPDATE series SET labels = ? WHERE id = ?")
            for (id, text) in json {
                update.bind(1, text)
                update.bind(2, id)
                try update.run()
            }
        }
        db = try DB.open(directory: dir)
        defer { db.close() }
        #expect(db.blockProblems.isEmpty)
        let after = dump(db)
        #expect(after.keys.sorted { Labels.compare($0, $1) < 0 } == before.keys.sorted { Labels.compare($0, $1) < 0 })
        for (labels, samples) in before { #expect(after[labels]?.map(\.0) == samples.map(\.0) && after[labels]?.map(\.1) == samples.map(\.1)) }
    }
}

@Suite struct SharedTimestampHeadTests {
    /// Scraped series (one timestamp per scrape for all of a target's series) go from the
    /// head into blocks sharing their timestamp columns, and read back exactly after the
    /// blocks are merged and the store is reopened.
    @Test func headBlocksOfScrapedSeriesShareColumns() throws {
        let dir = temporaryDirectory()
        defer { Files.remove(dir) }
        var rng = SplitMix64(seed: 31)
        var db = try DB.open(directory: dir)
        let app = db.appender()
        var t: Int64 = 1_764_000_000_000 - 1_764_000_000_000 % 7_200_000
        for _ in 0..<(10 * 240) {                          // 10 h at 15 s
            t += 15_000 + Int64(rng.next() % 31) - 15
            for target in 0..<3 {
                for k in 0..<20 where !(k == 7 && rng.next() % 9 == 0) {   // one series misses scrapes
                    try app.append(series("m\(k)", ["instance": "t\(target)"]), t + Int64(target), Double(rng.next() % 100))
                }
            }
            try app.commit()
        }
        let original = dump(db)
        try db.compact()
        #expect(db.blocks.contains { $0.meta.compaction.level > 1 })
        var shared = 0, chunks = 0
        for b in db.blocks {
            for (_, cs) in try b.allSeries(chunkSize: 120) {
                for c in cs { chunks += 1; if try c.chunk.header().encoding.timestamps == .shared { shared += 1 } }
            }
        }
        #expect(shared * 4 >= chunks * 3, "\(shared) of \(chunks) block chunks share a timestamp column")
        expectSameData(original, dump(db), "after compaction")
        db.close()
        db = try DB.open(directory: dir)
        defer { db.close() }
        expectSameData(original, dump(db), "after reopening")
    }
}
