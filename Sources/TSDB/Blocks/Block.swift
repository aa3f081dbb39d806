/// An immutable on-disk block: `meta.json`, `index.db` (SQLite) and `chunks/` (memory-mapped).
public final class Block: Sendable {
    public let directory: String
    public let meta: BlockMeta
    let index: BlockIndexReader
    let chunkFiles: ChunkFileReader

    /// Opens a block, checking that each of its three parts is present and readable.
    public static func open(directory: String) throws(BlockError) -> Block {
        let meta: BlockMeta
        do { meta = try BlockMeta.read(directory + "/meta.json") } catch { throw .meta("\(directory): \(error)") }
        guard meta.maxTime >= meta.minTime, ULID.isValid(meta.ulid) else { throw .meta("\(directory): inconsistent fields") }
        let index = try BlockIndexReader(path: directory + "/index.db", expectedSeries: meta.stats.numSeries)
        let chunks = try ChunkFileReader(directory: directory + "/chunks")
        return Block(directory: directory, meta: meta, index: index, chunkFiles: chunks)
    }

    init(directory: String, meta: BlockMeta, index: BlockIndexReader, chunkFiles: ChunkFileReader) {
        self.directory = directory
        self.meta = meta
        self.index = index
        self.chunkFiles = chunkFiles
    }

    /// Bytes on disk.
    public var size: Int { Files.treeSize(directory) }

    public func querier(mint: Int64, maxt: Int64) -> BlockQuerier {
        BlockQuerier(block: self, mint: mint, maxt: maxt)
    }

    /// Every series with all its chunks, in label order (for compaction).
    func allSeries() throws(BlockError) -> [(Labels, [ChunkMeta])] {
        var out: [(Labels, [ChunkMeta])] = []
        for id in index.allPostings() {
            let (labels, refs) = try index.series(id)
            out.append((labels, refs.map { ChunkMeta(minTime: $0.minTime, maxTime: $0.maxTime, chunk: chunkFiles.chunk($0.ref)) }))
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
        for id in block.index.postings(for: matchers) {
            let labels: Labels, refs: [BlockChunkRef]
            do { (labels, refs) = try block.index.series(id) } catch { return (out, error) }
            let chunks = refs.filter { $0.maxTime >= mint && $0.minTime <= maxt }
                .map { ChunkMeta(minTime: $0.minTime, maxTime: $0.maxTime, chunk: block.chunkFiles.chunk($0.ref)) }
            if !chunks.isEmpty { out.append(ChunkSeries(labels: labels, chunks: chunks, mint: mint, maxt: maxt)) }
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
