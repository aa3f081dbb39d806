import Foundation
import Synchronization
import Storage

/// An immutable on-disk block: `meta.json`, `index.db` (SQLite) and `chunks/` (memory-mapped),
/// plus `tombstones.json`, the one file that changes (deletions, rewritten atomically).
///
/// Ownership: everything but the tombstones is immutable after `open`; the tombstones are
/// owned by their lock. A block that compaction or retention replaced is only marked
/// (`removeWhenReleased`): its directory is deleted when the last reference goes, so a query
/// that took the block before it was replaced reads it to the end.
public final class Block: Sendable {
    public let directory: String
    public let meta: BlockMeta
    let index: BlockIndexReader
    let chunkFiles: ChunkFileReader
    let tombstones: Locked<[SeriesRef: [DeletedInterval]]>
    private let obsolete = Atomic<Bool>(false)

    /// Opens a block, checking that each of its three parts is present and readable.
    public static func open(directory: String) throws(BlockError) -> Block {
        let meta: BlockMeta
        do { meta = try BlockMeta.read(directory + "/meta.json") } catch { throw .meta("\(directory): \(error)") }
        guard meta.maxTime >= meta.minTime, ULID.isValid(meta.ulid) else { throw .meta("\(directory): inconsistent fields") }
        guard meta.minTime >= HeadOptions.earliestTime, meta.maxTime <= -HeadOptions.earliestTime else {
            throw .meta("\(directory): time range [\(meta.minTime), \(meta.maxTime)] outside what the store can represent")
        }
        let index = try BlockIndexReader(path: directory + "/index.db", expectedSeries: meta.stats.numSeries)
        let chunks = try ChunkFileReader(directory: directory + "/chunks")
        let stones = try TombstoneFile.read(directory + "/" + TombstoneFile.name)
        return Block(directory: directory, meta: meta, index: index, chunkFiles: chunks, tombstones: stones)
    }

    init(directory: String, meta: BlockMeta, index: BlockIndexReader, chunkFiles: ChunkFileReader,
         tombstones: [SeriesRef: [DeletedInterval]]) {
        self.directory = directory
        self.meta = meta
        self.index = index
        self.chunkFiles = chunkFiles
        self.tombstones = Locked(tombstones)
    }

    deinit {
        if obsolete.load(ordering: .acquiring) { Files.remove(directory) }
    }

    /// Deletes the block's directory once nothing references the block any more: the store
    /// has dropped it from its list, and queries still reading it finish first.
    func removeWhenReleased() {
        obsolete.store(true, ordering: .releasing)
    }

    /// Whether any series of the block has deleted ranges.
    public var hasTombstones: Bool { tombstones.withLock { !$0.isEmpty } }

    /// Marks [mint, maxt] deleted for the matching series and saves `tombstones.json`.
    func delete(_ matchers: [LabelMatcher], mint: Int64, maxt: Int64) throws {
        let ids = index.postings(for: matchers)
        guard !ids.isEmpty else { return }
        let updated = tombstones.withLock { t -> [SeriesRef: [DeletedInterval]] in
            for id in ids { Intervals.add(DeletedInterval(minTime: mint, maxTime: maxt), to: &t[id, default: []]) }
            return t
        }
        try TombstoneFile.write(updated, to: directory + "/" + TombstoneFile.name)
    }

    /// Bytes on disk.
    public var size: Int { Files.treeSize(directory) }

    public func querier(mint: Int64, maxt: Int64) -> BlockQuerier {
        BlockQuerier(block: self, mint: mint, maxt: maxt)
    }

    /// Every series with all its chunks, in label order, deletions applied (for compaction).
    func allSeries(chunkSize: Int) throws -> [(Labels, [ChunkMeta])] {
        var out: [(Labels, [ChunkMeta])] = []
        let stones = tombstones.withLock { $0 }
        for id in index.allPostings() {
            let (labels, refs) = try index.series(id)
            var chunks = refs.map { ChunkMeta(minTime: $0.minTime, maxTime: $0.maxTime, chunk: chunkFiles.chunk($0.ref)) }
            if let deleted = stones[id] { chunks = try Intervals.apply(deleted, to: chunks, chunkSize: chunkSize) }
            if !chunks.isEmpty { out.append((labels, chunks)) }
        }
        return out
    }
}

/// A querier over one block.
public struct BlockQuerier: Querier {
    let block: Block
    public let mint: Int64
    public let maxt: Int64

    public func select(_ matchers: [LabelMatcher], hints: SelectHints?) -> any SeriesSet {
        let (series, error) = selectSeries(matchers)
        return ListSeriesSet(series, error: error)
    }

    /// Matching series with chunks in range, in label order (block series ids follow label order).
    func selectSeries(_ matchers: [LabelMatcher]) -> ([ChunkSeries], BlockError?) {
        var out: [ChunkSeries] = []
        let stones = block.tombstones.withLock { $0 }
        let ids = block.index.postings(for: matchers)
        let rows: [(Labels, [BlockChunkRef])]
        do { rows = try block.index.series(ids) } catch { return (out, error) }
        for (id, (labels, refs)) in zip(ids, rows) {
            let chunks = refs.filter { $0.maxTime >= mint && $0.minTime <= maxt }
                .map { ChunkMeta(minTime: $0.minTime, maxTime: $0.maxTime, chunk: block.chunkFiles.chunk($0.ref)) }
            guard !chunks.isEmpty else { continue }
            let series = ChunkSeries(labels: labels, chunks: chunks, mint: mint, maxt: maxt, deleted: stones[id] ?? [])
            // Chunks that only straddle the range may hold no sample inside it.
            if !chunks.contains(where: { $0.minTime >= mint && $0.maxTime <= maxt }) {
                var it = series.iterator()
                guard it.next() || it.error != nil else { continue }
            }
            out.append(series)
        }
        return (out, nil)
    }

    public func labelNames(_ matchers: [LabelMatcher]) -> [String] {
        if matchers.isEmpty { return block.index.labelNames() }
        return Array(Set(selectSeries(matchers).0.flatMap { $0.labels.map(\.name) })).sorted()
    }

    public func labelValues(_ name: String, _ matchers: [LabelMatcher]) -> [String] {
        if matchers.isEmpty { return block.index.labelValues(name: name).sorted() }
        return Array(Set(selectSeries(matchers).0.compactMap { $0.labels[name] })).sorted()
    }
}

/// `tombstones.json` of a block: `{"version":1,"series":[{"id":3,"intervals":[[min,max],…]}]}`.
enum TombstoneFile {
    static let name = "tombstones.json"

    struct Entry: Codable {
        var id: SeriesRef
        var intervals: [[Int64]]
    }

    struct Content: Codable {
        var version = 1
        var series: [Entry]
    }

    static func read(_ path: String) throws(BlockError) -> [SeriesRef: [DeletedInterval]] {
        guard Files.exists(path) else { return [:] }
        do {
            let content = try JSONDecoder().decode(Content.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            var out: [SeriesRef: [DeletedInterval]] = [:]
            for e in content.series {
                for i in e.intervals where i.count == 2 {
                    Intervals.add(DeletedInterval(minTime: i[0], maxTime: i[1]), to: &out[e.id, default: []])
                }
            }
            return out
        } catch {
            throw .meta("\(path): \(error)")
        }
    }

    static func write(_ stones: [SeriesRef: [DeletedInterval]], to path: String) throws {
        let content = Content(series: stones.keys.sorted().map { id in
            Entry(id: id, intervals: (stones[id] ?? []).map { [$0.minTime, $0.maxTime] })
        })
        let data = try JSONEncoder().encode(content)
        try Files.write(Array(data), to: path + ".tmp")
        try Files.rename(path + ".tmp", path)
    }
}
