import Storage

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

    /// Appends the samples after the current one (every sample when iteration has not
    /// started), decoding chunk by chunk in bulk rather than through `next()`.
    public mutating func drain(timestamps: inout [Int64], values: inout [Double], cache: TimestampColumnCache?) {
        guard !done else { return }
        if !deleted.isEmpty {
            while next() {
                let (t, v) = at()
                timestamps.append(t)
                values.append(v)
            }
            return
        }
        // Samples after the current one (all of them when iteration has not started).
        guard started ? rawNext() : seek(to: mint) else { return }
        while true {
            if let cache, drainShared(&timestamps, &values, cache) {
                if !nextChunk() { return }
                continue
            }
            let room = current.remaining
            let fromStart = current.atFirstSample
            let base = timestamps.count
            timestamps.append(contentsOf: repeatElement(0, count: room))
            values.append(contentsOf: repeatElement(0, count: room))
            let (written, pastEnd) = timestamps.withUnsafeMutableBufferPointer { tp in
                values.withUnsafeMutableBufferPointer { vp in
                    guard let t = tp.baseAddress, let v = vp.baseAddress else { return (0, false) }
                    return current.drain(upTo: maxt, into: t + base, v + base)
                }
            }
            timestamps.removeLast(room - written)
            values.removeLast(room - written)
            if pastEnd { done = true; return }
            if let cache, fromStart, written == room, let key = sharedColumnKey() {
                cache.store(key, timestamps[base...])
            }
            if !nextChunk() { return }
        }
    }

    /// The address of the current chunk's timestamp column when it is a shared one and the
    /// whole chunk is being read (from its first sample, ending inside the range).
    func sharedColumnKey() -> UnsafeRawPointer? {
        guard index >= 0, index < chunks.count, chunks[index].maxTime <= maxt,
              let shared = chunks[index].chunk.sharedTimestamps else { return nil }
        return shared.column.baseAddress
    }

    /// Drains the current chunk with its timestamps from `cache` and only its values decoded;
    /// false (nothing done) when the column is not cached or the chunk is not read whole.
    mutating func drainShared(_ timestamps: inout [Int64], _ values: inout [Double], _ cache: TimestampColumnCache) -> Bool {
        guard current.atFirstSample, let key = sharedColumnKey(), let cached = cache.columns[key],
              cached.count == current.remaining else { return false }
        let base = values.count
        values.append(contentsOf: repeatElement(0, count: cached.count))
        let written = values.withUnsafeMutableBufferPointer { vp -> Int in
            guard let v = vp.baseAddress else { return 0 }
            return current.drainValues(into: v + base)
        }
        values.removeLast(cached.count - written)
        timestamps.append(contentsOf: cached[0..<written])
        return true
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
