import Storage

/// Writes a block into a temporary directory, then renames it into place: a crash never
/// leaves a partial block visible.
enum BlockWriter {
    static let temporarySuffix = ".tmp-for-creation"

    /// Writes the series that `produce` emits (in label order, chunks in time order, none
    /// outside [minTime, maxTime)) as a new block under `parent`.
    static func write(parent: String, minTime: Int64, maxTime: Int64, level: Int, sources: [String],
                      parents: [String],
                      produce: (_ emit: (Labels, [ChunkMeta]) throws -> Void) throws -> Void) throws -> BlockMeta {
        let ulid = ULID.make()
        let tmp = parent + "/" + ulid + temporarySuffix
        Files.remove(tmp)
        try Files.makeDirectory(tmp)
        do {
            let chunkWriter = try ChunkFileWriter(directory: tmp + "/chunks")
            let index = try BlockIndexWriter(path: tmp + "/index.db")
            var stats = BlockMeta.Stats(numSeries: 0, numSamples: 0, numChunks: 0)
            try produce { labels, chunks in
                guard !chunks.isEmpty else { return }
                var refs: [BlockChunkRef] = []
                refs.reserveCapacity(chunks.count)
                for c in chunks {
                    refs.append(BlockChunkRef(minTime: c.minTime, maxTime: c.maxTime, ref: try chunkWriter.write(c.chunk)))
                    stats.numSamples += (try? c.chunk.header().count) ?? 0
                }
                try index.add(labels, chunks: refs)
                stats.numSeries += 1
                stats.numChunks += refs.count
            }
            try chunkWriter.finish()
            try index.finish()
            let meta = BlockMeta(ulid: ulid, minTime: minTime, maxTime: maxTime, stats: stats,
                                 compaction: .init(level: level, sources: sources.isEmpty ? [ulid] : sources, parents: parents))
            try Files.write(meta.encoded(), to: tmp + "/meta.json")
            Files.syncDirectory(tmp)
            try Files.rename(tmp, parent + "/" + ulid)
            Files.syncDirectory(parent)
            return meta
        } catch {
            Files.remove(tmp)
            throw error
        }
    }
}
