import Storage

/// A deleted time range of a series, both ends included.
public struct DeletedInterval: Sendable, Hashable, Codable {
    public var minTime: Int64
    public var maxTime: Int64

    public init(minTime: Int64, maxTime: Int64) {
        self.minTime = minTime
        self.maxTime = maxTime
    }
}

/// Sorted, non-overlapping lists of deleted intervals.
enum Intervals {
    /// Adds `i` to `list`, merging what overlaps or touches it.
    static func add(_ i: DeletedInterval, to list: inout [DeletedInterval]) {
        guard i.minTime <= i.maxTime else { return }
        var merged = i
        var out: [DeletedInterval] = []
        for x in list {
            // Differences as unsigned values cannot overflow when the order is known.
            let before = x.maxTime < merged.minTime && UInt64(bitPattern: merged.minTime &- x.maxTime) > 1
            let after = x.minTime > merged.maxTime && UInt64(bitPattern: x.minTime &- merged.maxTime) > 1
            if before || after {
                out.append(x)
            } else {
                merged = DeletedInterval(minTime: min(merged.minTime, x.minTime), maxTime: max(merged.maxTime, x.maxTime))
            }
        }
        out.append(merged)
        list = out.sorted { $0.minTime < $1.minTime }
    }

    static func union(_ lists: [[DeletedInterval]]) -> [DeletedInterval] {
        var out: [DeletedInterval] = []
        for l in lists { for i in l { add(i, to: &out) } }
        return out
    }

    static func contains(_ list: [DeletedInterval], _ t: Int64) -> Bool {
        for i in list where t >= i.minTime && t <= i.maxTime { return true }
        return false
    }

    /// The chunks with deleted samples removed: chunks that touch a deletion are decoded and
    /// re-encoded from what remains (in pieces of `chunkSize`); the others are kept as they are.
    static func apply(_ list: [DeletedInterval], to chunks: [ChunkMeta], chunkSize: Int) throws(ChunkError) -> [ChunkMeta] {
        guard !list.isEmpty else { return chunks }
        var out: [ChunkMeta] = []
        for c in chunks {
            let touched = list.contains { $0.maxTime >= c.minTime && $0.minTime <= c.maxTime }
            guard touched else { out.append(c); continue }
            var it = c.chunk.makeIterator()
            var builder = ChunkBuilder(chunkSize: chunkSize)
            while it.next() {
                let (t, v) = it.at()
                if !contains(list, t) { builder.append(t, v) }
            }
            if let e = it.error { throw e }
            builder.flush()
            out.append(contentsOf: builder.chunks)
        }
        return out
    }
}
