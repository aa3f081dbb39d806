import Storage

/// Merges queriers over the same range (the head and the blocks): series with the same labels
/// are joined, and samples present in several sources are returned once.
public struct MergeQuerier: Querier {
    let head: HeadQuerier?
    let blocks: [BlockQuerier]
    public let mint: Int64
    public let maxt: Int64

    /// Selects from every source at once (blocks and the head on all cores: reading a block's
    /// index is most of a query's serial work), then merges the lists in label order.
    public func select(_ matchers: [LabelMatcher], hints: SelectHints?) -> any SeriesSet {
        let sources = blocks.count + (head == nil ? 0 : 1)
        // Queriers are immutable values; each source's select reads only its own block or the
        // head, each under its own locks.
        let found = Parallel.map(sources) { k in Self.select(source: k, blocks, head, matchers) }
        let lists = found.map(\.series).filter { !$0.isEmpty }
        return ListSeriesSet(Self.merge(lists), error: found.lazy.compactMap(\.error).first)
    }

    /// The series of source `k`: a block, or the head after the blocks.
    static func select(source k: Int, _ blocks: [BlockQuerier], _ head: HeadQuerier?,
                       _ matchers: [LabelMatcher]) -> (series: [ChunkSeries], error: (any Error)?) {
        if k < blocks.count { return blocks[k].selectSeries(matchers) }
        return (head?.selectSeries(matchers) ?? [], nil)
    }

    /// Joins lists that are each in label order (blocks by time, then the head) into one
    /// list in label order: a k-way merge, the parts of one series in source order.
    static func merge(_ lists: [[ChunkSeries]]) -> [any Series] {
        if lists.count == 1 { return lists[0] }
        var cursors = [Int](repeating: 0, count: lists.count)
        var out: [any Series] = []
        out.reserveCapacity(lists.map(\.count).max() ?? 0)
        var parts: [ChunkSeries] = []
        while true {
            var smallest = -1
            for k in lists.indices where cursors[k] < lists[k].count {
                if smallest < 0 || Labels.compare(lists[k][cursors[k]].labels, lists[smallest][cursors[smallest]].labels) < 0 {
                    smallest = k
                }
            }
            guard smallest >= 0 else { break }
            let labels = lists[smallest][cursors[smallest]].labels
            parts.removeAll(keepingCapacity: true)
            for k in lists.indices where cursors[k] < lists[k].count && lists[k][cursors[k]].labels == labels {
                parts.append(lists[k][cursors[k]])
                cursors[k] += 1
            }
            out.append(parts.count == 1 ? parts[0] : MergedSeries.make(parts))
        }
        return out
    }

    public func labelNames(_ matchers: [LabelMatcher]) -> [String] {
        var names = Set(head?.labelNames(matchers) ?? [])
        for b in blocks { names.formUnion(b.labelNames(matchers)) }
        return names.sorted()
    }

    public func labelValues(_ name: String, _ matchers: [LabelMatcher]) -> [String] {
        var values = Set(head?.labelValues(name, matchers) ?? [])
        for b in blocks { values.formUnion(b.labelValues(name, matchers)) }
        return values.sorted()
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

/// Merges iterators in time order; at equal timestamps the first iterator's sample wins.
struct DedupingIterator: SeriesIterator {
    var iterators: [ChunkSeriesIterator]
    var live: [Bool]
    var current: (t: Int64, v: Double) = (0, 0)
    var started = false
    var error: (any Error)?

    init(_ iterators: [ChunkSeriesIterator]) {
        self.iterators = iterators
        live = Array(repeating: false, count: iterators.count)
    }

    mutating func next() -> Bool {
        if !started {
            started = true
            for k in iterators.indices { live[k] = iterators[k].next(); noteError(k) }
        } else {
            // Move every iterator that sits on the sample just returned.
            for k in iterators.indices where live[k] && iterators[k].at().t == current.t {
                live[k] = iterators[k].next()
                noteError(k)
            }
        }
        return pick()
    }

    mutating func seek(to t: Int64) -> Bool {
        if started && current.t >= t && live.contains(true) { return true }
        started = true
        for k in iterators.indices {
            live[k] = iterators[k].seek(to: t)
            noteError(k)
        }
        return pick()
    }

    func at() -> (t: Int64, v: Double) { current }

    mutating func pick() -> Bool {
        var best = -1
        for k in iterators.indices where live[k] {
            if best < 0 || iterators[k].at().t < iterators[best].at().t { best = k }
        }
        guard best >= 0 else { return false }
        current = iterators[best].at()
        return true
    }

    mutating func noteError(_ k: Int) {
        if error == nil, let e = iterators[k].error { error = e }
    }
}
