import Storage

/// Merges blocks: the time windows of each level, the series by labels, the samples by time
/// with repeated timestamps dropped.
enum Compactor {
    /// Window sizes for merging: 3, 9, 27… block ranges, up to `maxRange`.
    static func levels(blockRange: Int64, maxRange: Int64) -> [Int64] {
        var out: [Int64] = []
        var r = blockRange * 3
        while r <= maxRange {
            out.append(r)
            r *= 3
        }
        return out
    }

    /// The first group of blocks to merge: two or more blocks inside one complete window.
    static func plan(_ blocks: [Block], levels: [Int64], completeBefore: Int64) -> [Block]? {
        for r in levels {
            var windows: [Int64: [Block]] = [:]
            for b in blocks {
                let w = floorDiv(b.meta.minTime, r)
                if b.meta.maxTime <= (w + 1) * r { windows[w, default: []].append(b) }
            }
            for w in windows.keys.sorted() {
                guard let group = windows[w], group.count > 1, (w + 1) * r <= completeBefore else { continue }
                return group.sorted { $0.meta.minTime < $1.meta.minTime }
            }
        }
        return nil
    }

    /// Writes one block holding the data of `blocks`; returns its meta.
    static func merge(_ blocks: [Block], into parent: String, chunkSize: Int) throws -> BlockMeta {
        let parts = try blocks.map { try $0.allSeries(chunkSize: chunkSize) }
        var cursors = Array(repeating: 0, count: parts.count)
        let sources = Array(Set(blocks.flatMap(\.meta.compaction.sources))).sorted()
        return try BlockWriter.write(
            parent: parent,
            minTime: blocks.map(\.meta.minTime).min() ?? 0,
            maxTime: blocks.map(\.meta.maxTime).max() ?? 0,
            level: (blocks.map(\.meta.compaction.level).max() ?? 1) + 1,
            sources: sources,
            parents: blocks.map(\.meta.ulid)
        ) { emit in
            // k-way merge by labels: every part is in label order.
            while true {
                var smallest: Labels?
                for (k, part) in parts.enumerated() where cursors[k] < part.count {
                    let l = part[cursors[k]].0
                    if smallest == nil || Labels.compare(l, smallest!) < 0 { smallest = l }
                }
                guard let labels = smallest else { break }
                var chunks: [ChunkMeta] = []
                for (k, part) in parts.enumerated() where cursors[k] < part.count && part[cursors[k]].0 == labels {
                    chunks.append(contentsOf: part[cursors[k]].1)
                    cursors[k] += 1
                }
                try emit(labels, mergeChunks(chunks, chunkSize: chunkSize))
            }
        }
    }

    /// Chunks in time order as they are when they do not overlap and already hold
    /// `chunkSize` samples each (the last one may hold fewer); otherwise the samples merged
    /// (first source wins on equal timestamps) and re-encoded into chunks of `chunkSize`.
    static func mergeChunks(_ chunks: [ChunkMeta], chunkSize: Int) throws -> [ChunkMeta] {
        let sorted = chunks.sorted { $0.minTime < $1.minTime }
        var overlap = false
        for k in sorted.indices.dropFirst() where sorted[k].minTime <= sorted[k - 1].maxTime { overlap = true }
        for c in sorted { if let e = c.chunk.damage { throw e } }
        if !overlap, try sorted.dropLast().allSatisfy({ try $0.chunk.header().count == chunkSize }) {
            return sorted
        }
        var it = DedupingIterator(chunks.map { ChunkSeriesIterator(chunks: [$0], mint: .min, maxt: .max) })
        var builder = ChunkBuilder(chunkSize: chunkSize)
        while it.next() {
            let (t, v) = it.at()
            builder.append(t, v)
        }
        if let e = it.error { throw e }
        builder.flush()
        return builder.chunks
    }
}
