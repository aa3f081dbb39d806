import Foundation
import Testing
@testable import TSDB
import Workloads

/// Backfilling blocks from samples in any order, through spill files.
@Suite struct BlockImporterTests {
    /// Everything stored, per series text: (time, value bits) in time order.
    static func readAll(_ directory: String) throws -> [String: [(Int64, UInt64)]] {
        let db = try ReadOnlyDB.open(directory: directory)
        var out: [String: [(Int64, UInt64)]] = [:]
        var set = db.querier(mint: .min, maxt: .max).select([try LabelMatcher(.regexMatch, "__name__", ".+")], hints: nil)
        while set.next() {
            var it = set.at().makeIterator()
            var samples: [(Int64, UInt64)] = []
            while it.next() { let (t, v) = it.at(); samples.append((t, v.bitPattern)) }
            #expect(it.error == nil)
            out[set.at().labels.description] = samples
        }
        #expect(set.error == nil)
        return out
    }

    @Test(arguments: [3, 1000, 1 << 20])
    func shuffledSamplesWithRepeatsComeBackSortedWithTheLastRepeatWinning(bufferLimit: Int) throws {
        let dir = NSTemporaryDirectory() + "sextant-importer-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = SystemRandomNumberGenerator()
        let seed = UInt64.random(in: 0...UInt64.max, using: &rng)
        var g = SplitMix64(seed: seed)
        // 20 series, 500 samples each over ~5 h with huge gaps and hostile values, some
        // timestamps repeated with another value later in the stream.
        var stream: [(series: Int, t: Int64, v: Double)] = []
        var expected: [Int: [Int64: Double]] = [:]
        for s in 0..<20 {
            var t: Int64 = 1_764_000_000_000 + Int64.random(in: 0..<60_000, using: &g)
            for k in 0..<500 {
                t += k % 97 == 0 ? 3_600_000 / 3 : Int64.random(in: 1...30_000, using: &g)
                let v = k % 5 == 0 ? hostileValues[k % hostileValues.count] : Double(k) * 1.5
                stream.append((s, t, v))
            }
        }
        stream.shuffle(using: &g)
        for k in stride(from: 0, to: stream.count, by: 37) {
            stream.append((stream[k].series, stream[k].t, Double(k) + 0.25))
        }
        for e in stream { expected[e.series, default: [:]][e.t] = e.v }

        let importer = try BlockImporter(directory: dir, blockDuration: 3_600_000, chunkSize: 50, bufferLimit: bufferLimit)
        let labels = (0..<20).map { Labels(["__name__": "m", "series": "\($0)"]) }
        for e in stream { try importer.add(importer.seriesID(labels[e.series]), e.t, e.v) }
        let summary = try importer.finish()

        #expect(summary.samples + summary.duplicates == stream.count, "seed \(seed)")
        #expect(summary.samples == expected.values.reduce(0) { $0 + $1.count })
        for b in summary.blocks {
            #expect(b.maxTime - b.minTime == 3_600_000 && b.minTime % 3_600_000 == 0)
        }
        let stored = try Self.readAll(dir)
        #expect(stored.count == 20)
        for s in 0..<20 {
            let want = expected[s, default: [:]].sorted { $0.key < $1.key }.map { ($0.key, $0.value.bitPattern) }
            let got = stored[labels[s].description] ?? []
            #expect(got.map(\.0) == want.map(\.0), "series \(s), seed \(seed)")
            #expect(got.map(\.1) == want.map(\.1), "series \(s), seed \(seed)")
        }
        // Only blocks and the lock are left: the spill files are gone.
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0 != "lock" }
        #expect(Set(left) == Set(summary.blocks.map(\.ulid)))
    }

    @Test func aServerHoldingTheDirectoryRefusesTheImport() throws {
        let dir = NSTemporaryDirectory() + "sextant-importer-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try DB.open(directory: dir)
        #expect(throws: DBError.self) { _ = try BlockImporter(directory: dir) }
        db.close()
        _ = try BlockImporter(directory: dir)
    }

    @Test func importedBlocksAreMergedByTheServer() throws {
        let dir = NSTemporaryDirectory() + "sextant-importer-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let importer = try BlockImporter(directory: dir)
            let id = importer.seriesID(Labels(["__name__": "up", "job": "a"]))
            for k in 0..<(6 * 240) { try importer.add(id, Int64(k) * 15_000, 1) }
            #expect(try importer.finish().blocks.count == 3)
        }
        var options = DBOptions()
        options.retentionTime = 100 * 24 * 3_600_000
        let db = try DB.open(directory: dir, options: options)
        let app = db.appender()
        try app.append(Labels(["__name__": "up", "job": "a"]), 30 * 3_600_000, 1)
        try app.commit()
        try db.compact()
        #expect(db.blocks.count == 1)
        #expect(db.blocks.first?.meta.stats.numSamples == 6 * 240)
        db.close()
    }

    /// Series scraped together share one timestamp column per chunk in a block; they read
    /// back exactly, also after the server merges the blocks, and a damaged shared column is
    /// reported by every chunk that uses it.
    @Test func seriesOfOneScrapeShareTimestampColumns() throws {
        let dir = NSTemporaryDirectory() + "sextant-shared-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var g = SplitMix64(seed: 7)
        var expected: [String: [(Int64, UInt64)]] = [:]
        do {
            let importer = try BlockImporter(directory: dir, chunkSize: 120)
            for target in 0..<2 {
                var t: Int64 = 1_764_000_000_000 + Int64(target) * 7_919
                for _ in 0..<(6 * 240) {
                    t += 15_000 + Int64(g.next() % 21) - 10
                    for k in 0..<50 {
                        let labels = Labels(["__name__": "m\(k)", "instance": "t\(target)"])
                        let v = Double(g.next() % 1000) / 10
                        try importer.add(importer.seriesID(labels), t, v)
                        expected[labels.description, default: []].append((t, v.bitPattern))
                    }
                }
            }
            _ = try importer.finish()
        }
        var stored = try Self.readAll(dir)
        #expect(stored.count == 100)
        for (k, want) in expected { #expect(stored[k]?.map(\.0) == want.map(\.0) && stored[k]?.map(\.1) == want.map(\.1), "\(k)") }
        // Drained through one column cache (as a query's worker does), over the whole range
        // and over a range that cuts chunks: the same samples.
        do {
            let cachedReader = try ReadOnlyDB.open(directory: dir)
            for (mint, maxt) in [(Int64.min, Int64.max), (1_764_000_000_000 + 3_333_333, 1_764_000_000_000 + 17_777_777)] {
                let cache = TimestampColumnCache()
                var set = cachedReader.querier(mint: mint, maxt: maxt).select([try LabelMatcher(.regexMatch, "__name__", ".+")], hints: nil)
                var seen = 0
                while set.next() {
                    var it = set.at().makeIterator()
                    var ts: [Int64] = [], vs: [Double] = []
                    it.drain(timestamps: &ts, values: &vs, cache: cache)
                    let want = (expected[set.at().labels.description] ?? []).filter { $0.0 >= mint && $0.0 <= maxt }
                    #expect(ts == want.map(\.0) && vs.map(\.bitPattern) == want.map(\.1), "\(set.at().labels)")
                    seen += 1
                }
                #expect(seen == 100 && !cache.columns.isEmpty)
            }
        }
        // One column in 50 is stored (short chunks at block edges keep their own).
        let blocks = try FileManager.default.contentsOfDirectory(atPath: dir).filter { ULID.isValid($0) }
        var shared = 0, chunks = 0
        for b in blocks {
            for (_, cs) in try Block.open(directory: dir + "/" + b).allSeries(chunkSize: 120) {
                for c in cs { chunks += 1; if try c.chunk.header().encoding.timestamps == .shared { shared += 1 } }
            }
        }
        #expect(shared * 10 >= chunks * 9, "\(shared) of \(chunks) chunks share a column")

        // Merged by the server (re-chunked to 480 samples): still exact.
        var options = DBOptions()
        options.retentionTime = 100 * 24 * 3_600_000
        let db = try DB.open(directory: dir, options: options)
        try db.compact()
        #expect(db.blocks.contains { $0.meta.compaction.level > 1 })
        db.close()
        stored = try Self.readAll(dir)
        for (k, want) in expected { #expect(stored[k]?.map(\.0) == want.map(\.0) && stored[k]?.map(\.1) == want.map(\.1), "\(k)") }

        // Damage the first chunk record of a segment: every chunk sharing its column fails.
        let victim = try #require(try FileManager.default.contentsOfDirectory(atPath: dir).first { ULID.isValid($0) })
        let segment = dir + "/" + victim + "/chunks/000001"
        var bytes = try Files.readAll(segment)
        bytes[14] ^= 0x40
        try Files.write(bytes, to: segment)
        let reader = try ReadOnlyDB.open(directory: dir)
        var set = reader.querier(mint: .min, maxt: .max).select([try LabelMatcher(.regexMatch, "__name__", ".+")], hints: nil)
        var failed = 0
        while set.next() {
            var it = set.at().makeIterator()
            while it.next() {}
            if it.error != nil { failed += 1 }
        }
        #expect(failed >= 2, "the damaged column's owner and the chunks sharing it report errors")
    }

    /// Reading many series of a block in one scan gives what reading them one by one does.
    @Test func batchSeriesReadsMatchSingleReads() throws {
        let dir = NSTemporaryDirectory() + "sextant-batch-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let importer = try BlockImporter(directory: dir)
        for k in 0..<300 {
            let id = importer.seriesID(Labels(["__name__": "m", "k": "\(k)", "parity": k % 2 == 0 ? "even" : "odd"]))
            for j in 0..<(1 + k % 7) { try importer.add(id, Int64(j) * 15_000 + Int64(k), Double(k * j)) }
        }
        let meta = try #require(try importer.finish().blocks.first)
        let block = try Block.open(directory: dir + "/" + meta.ulid)
        var g = SplitMix64(seed: 3)
        let subsets: [[SeriesRef]] = [
            Array(0..<300), Array(stride(from: 0, to: 300, by: 2)), Array(stride(from: 7, to: 300, by: 3)),
            Array(stride(from: 0, to: 300, by: 50)), (0..<300).filter { _ in g.next() % 3 != 0 }.map { SeriesRef($0) }, [299], [],
        ]
        for ids in subsets {
            let batch = try block.index.series(ids)
            #expect(batch.count == ids.count)
            for (id, row) in zip(ids, batch) {
                let single = try block.index.series(id)
                #expect(row.0 == single.0 && row.1.map(\.ref) == single.1.map(\.ref) && row.1.map(\.minTime) == single.1.map(\.minTime))
            }
        }
        #expect(throws: BlockError.self) { _ = try block.index.series(Array(0..<300) + [400]) }
    }
}
