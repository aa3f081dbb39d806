import Testing
import TestSupport
@testable import TSDB

@Suite struct HeadChunkFilesTests {
    @Test func fullHeadChunksLeaveTheHeapAndReadBack() throws {
        let dir = temporaryDirectory()
        defer { Files.remove(dir) }
        let db = try DB.open(directory: dir)
        defer { db.close() }
        let app = db.appender()
        var expected: [(Int64, Double)] = []
        for i in 0..<1000 {
            let t = Int64(i) * 15_000, v = Double(i % 17) * 0.25
            try app.append(series("mapped"), t, v)
            expected.append((t, v))
        }
        try app.commit()
        let ref = try #require(db.head.postings.postings(name: "__name__", value: "mapped").first)
        let chunks = try db.head.withSeries(ref) { $0?.sealed ?? [] }
        #expect(chunks.count >= 8)
        #expect(chunks.allSatisfy { $0.chunk.owner is HeadChunkFiles.Segment })
        #expect(db.head.chunkFiles?.bytesWritten ?? 0 > 0)
        let got = read(db.querier(mint: .min, maxt: .max), [.equal("__name__", "mapped")])
        #expect(got.first?.1.map(\.0) == expected.map(\.0))
        #expect(got.first?.1.map(\.1) == expected.map(\.1))
    }

    @Test func truncationDeletesSegmentsThatOnlyHoldOldChunks() throws {
        let files = try HeadChunkFiles(directory: temporaryDirectory() + "/chunks_head", segmentSize: 256)
        defer { Files.remove(files.directory) }
        let chunk = ChunkEncoder.encode(timestamps: Array(0..<100).map { Int64($0) }, values: Array(repeating: 1.5, count: 100))
        var kept: [Chunk] = []
        for t in 0..<200 { kept.append(try #require(files.store(chunk, maxTime: Int64(t)))) }
        let before = Files.list(files.directory).count
        #expect(before > 2)
        files.truncate(before: 150)
        #expect(Files.list(files.directory).count < before)
        // Chunks handed out earlier stay readable: the mapping lives as long as they do.
        #expect(decodeAll(kept[0]).ts.count == 100)
    }
}
