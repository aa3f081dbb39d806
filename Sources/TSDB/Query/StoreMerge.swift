import Storage

/// The head and the blocks of one store merged over a range: `MergeQuerier`'s work with the
/// engine's own types, so that a series whose chunks do not overlap stays one `ChunkSeries`
/// (its drain and the shared timestamp-column cache keep working) and overlapping ones merge
/// chunk iterators with no existential per sample.
struct StoreMerge: Querier {
    let head: HeadQuerier?
    let blocks: [BlockQuerier]
    let mint: Int64
    let maxt: Int64

    /// Selects from every source at once (blocks and the head on all cores: reading a block's
    /// index is most of a query's serial work), then merges the lists in label order.
    func select(_ matchers: [LabelMatcher], hints: SelectHints?) -> any SeriesSet {
        let sources = blocks.count + (head == nil ? 0 : 1)
        // Queriers are immutable values; each source's select reads only its own block or the
        // head, each under its own locks.
        let found = Parallel.map(sources) { k in Self.select(source: k, blocks, head, matchers) }
        let merged = SeriesMerge.merge(found.map(\.series), labels: \.labels, single: { $0 }, join: MergedSeries.make)
        return ListSeriesSet(merged, error: found.lazy.compactMap(\.error).first)
    }

    /// The series of source `k`: a block, or the head after the blocks.
    static func select(source k: Int, _ blocks: [BlockQuerier], _ head: HeadQuerier?,
                       _ matchers: [LabelMatcher]) -> (series: [ChunkSeries], error: (any Error)?) {
        if k < blocks.count { return blocks[k].selectSeries(matchers) }
        return (head?.selectSeries(matchers) ?? [], nil)
    }

    func labelNames(_ matchers: [LabelMatcher]) -> [String] {
        SeriesMerge.union([head?.labelNames(matchers) ?? []] + blocks.map { $0.labelNames(matchers) })
    }

    func labelValues(_ name: String, _ matchers: [LabelMatcher]) -> [String] {
        SeriesMerge.union([head?.labelValues(name, matchers) ?? []] + blocks.map { $0.labelValues(name, matchers) })
    }
}

/// One series read from several sources.
enum MergedSeries {
    /// A single chunk series when the parts' chunks do not overlap in time, otherwise a
    /// series whose iterator merges the parts and drops repeated timestamps.
    static func make(_ parts: [ChunkSeries]) -> any Series {
        let chunks = parts.flatMap(\.chunks).sorted { $0.minTime < $1.minTime }
        // A deletion applies to the series wherever its samples are stored.
        let deleted = Intervals.union(parts.map(\.deleted))
        var overlapping = false
        for k in chunks.indices.dropFirst() where chunks[k].minTime <= chunks[k - 1].maxTime { overlapping = true }
        if !overlapping {
            return ChunkSeries(labels: parts[0].labels, chunks: chunks, mint: parts[0].mint, maxt: parts[0].maxt, deleted: deleted)
        }
        return OverlappingSeries(labels: parts[0].labels,
                                 parts: parts.map { ChunkSeries(labels: $0.labels, chunks: $0.chunks, mint: $0.mint, maxt: $0.maxt, deleted: deleted) })
    }
}

struct OverlappingSeries: Series {
    let labels: Labels
    let parts: [ChunkSeries]

    func makeIterator() -> any SeriesIterator {
        DedupingIterator(parts.map { $0.iterator() })
    }
}
