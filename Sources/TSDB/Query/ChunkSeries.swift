/// A series backed by chunks in time order that do not overlap, read within [mint, maxt].
public struct ChunkSeries: Series {
    public let labels: Labels
    public let chunks: [ChunkMeta]
    public let mint: Int64
    public let maxt: Int64
    /// Deleted ranges whose samples are skipped.
    public let deleted: [DeletedInterval]

    public init(labels: Labels, chunks: [ChunkMeta], mint: Int64, maxt: Int64, deleted: [DeletedInterval] = []) {
        self.labels = labels
        self.chunks = chunks
        self.mint = mint
        self.maxt = maxt
        self.deleted = deleted
    }

    public func makeIterator() -> any SeriesIterator { iterator() }

    /// The concrete iterator, for callers that want to avoid an existential.
    public func iterator() -> ChunkSeriesIterator {
        ChunkSeriesIterator(chunks: chunks, mint: mint, maxt: maxt, deleted: deleted)
    }
}

/// Iterates a list of non-overlapping chunks in order, bounded to [mint, maxt], skipping
/// whole chunks on `seek(to:)` by their time ranges.
public struct ChunkSeriesIterator: SeriesIterator {
    let chunks: [ChunkMeta]
    let mint: Int64
    let maxt: Int64
    var index = -1
    var current: ChunkIterator
    var started = false
    var done = false
    let deleted: [DeletedInterval]
    public private(set) var chunkError: ChunkError?

    public init(chunks: [ChunkMeta], mint: Int64, maxt: Int64, deleted: [DeletedInterval] = []) {
        self.chunks = chunks
        self.mint = mint
        self.maxt = maxt
        self.deleted = deleted
        current = ChunkIterator(failed: .truncatedHeader)
    }

    public var error: (any Error)? { chunkError }

    public mutating func next() -> Bool {
        guard rawNext() else { return false }
        return skipDeleted()
    }

    public mutating func seek(to t: Int64) -> Bool {
        guard rawSeek(to: t) else { return false }
        return skipDeleted()
    }

    /// Moves past samples in deleted ranges.
    @inline(__always)
    mutating func skipDeleted() -> Bool {
        if deleted.isEmpty { return true }
        while Intervals.contains(deleted, current.at().t) {
            guard rawNext() else { return false }
        }
        return true
    }

    mutating func rawNext() -> Bool {
        if done { return false }
        if !started { return rawSeek(to: mint) }
        if current.next() { return bounded() }
        return nextChunk()
    }

    mutating func rawSeek(to t: Int64) -> Bool {
        if done { return false }
        let target = max(t, mint)
        if started && index >= 0 && current.at().t >= target { return true }
        started = true
        // Skip chunks that end before the target.
        var i = max(index, 0)
        while i < chunks.count && chunks[i].maxTime < target { i += 1 }
        guard i < chunks.count else { return finish() }
        if i != index {
            index = i
            current = chunks[i].chunk.makeIterator()
        }
        if current.seek(to: target) { return bounded() }
        return nextChunk()
    }

    public func at() -> (t: Int64, v: Double) { current.at() }

    /// Decodes the remaining samples chunk by chunk, without going through `next()`.
    public mutating func drain(timestamps: inout [Int64], values: inout [Double]) {
        guard !done else { return }
        if !deleted.isEmpty {
            while next() {
                let (t, v) = at()
                timestamps.append(t)
                values.append(v)
            }
            return
        }
        var expected = 0
        for c in chunks.dropFirst(max(index, 0)) { expected += (try? c.chunk.header().count) ?? 0 }
        timestamps.reserveCapacity(timestamps.count + expected)
        values.reserveCapacity(values.count + expected)
        if !started {
            guard seek(to: mint) else { return }
        }
        while true {
            let (t, v) = current.at()
            if t > maxt { done = true; return }
            timestamps.append(t)
            values.append(v)
            if !current.next() {
                if !nextChunk() { return }
                continue
            }
        }
    }

    mutating func nextChunk() -> Bool {
        if let e = current.error, index >= 0 { chunkError = e; return finish() }
        while index + 1 < chunks.count {
            index += 1
            current = chunks[index].chunk.makeIterator()
            if current.next() { return bounded() }
            if let e = current.error { chunkError = e; return finish() }
        }
        return finish()
    }

    @inline(__always)
    mutating func bounded() -> Bool {
        current.at().t <= maxt ? true : finish()
    }

    mutating func finish() -> Bool {
        done = true
        return false
    }
}
