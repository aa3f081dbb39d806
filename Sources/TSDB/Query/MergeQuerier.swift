/// Merges queriers over the same range (the head and the blocks): series with the same labels
/// are joined, and samples present in several sources are returned once.
public struct MergeQuerier: Querier {
    let head: HeadQuerier?
    let blocks: [BlockQuerier]
    public let mint: Int64
    public let maxt: Int64

    public func select(_ matchers: [LabelMatcher], hints: SelectHints?) -> any SeriesSet {
        var parts: [ChunkSeries] = []
        var firstError: (any Error)?
        for b in blocks {
            let (series, error) = b.selectSeries(matchers)
            parts.append(contentsOf: series)
            if firstError == nil, let error { firstError = error }
        }
        if let head { parts.append(contentsOf: head.selectSeries(matchers)) }
        // Stable sort keeps each series' parts in source order (blocks by time, then head).
        let sorted = parts.enumerated().sorted { a, b in
            let c = Labels.compare(a.element.labels, b.element.labels)
            return c != 0 ? c < 0 : a.offset < b.offset
        }.map(\.element)
        var out: [any Series] = []
        var i = 0
        while i < sorted.count {
            var j = i + 1
            while j < sorted.count && sorted[j].labels == sorted[i].labels { j += 1 }
            out.append(j == i + 1 ? sorted[i] : MergedSeries.make(Array(sorted[i..<j])))
            i = j
        }
        return ListSeriesSet(out, error: firstError)
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
