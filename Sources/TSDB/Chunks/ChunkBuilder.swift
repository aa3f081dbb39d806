import Storage

/// Collects samples in time order and cuts them into sealed chunks of `chunkSize` samples
/// (compaction merges and tombstone removal re-encode through it).
struct ChunkBuilder {
    let chunkSize: Int
    private var ts: [Int64] = []
    private var vs: [Double] = []
    private(set) var chunks: [ChunkMeta] = []

    init(chunkSize: Int) { self.chunkSize = min(max(chunkSize, 1), ChunkHeader.maxSamples) }

    mutating func append(_ t: Int64, _ v: Double) {
        ts.append(t)
        vs.append(v)
        if ts.count == chunkSize { flush() }
    }

    /// Seals what is pending; call once at the end.
    mutating func flush() {
        guard !ts.isEmpty else { return }
        chunks.append(ChunkMeta(minTime: ts[0], maxTime: ts[ts.count - 1], chunk: ChunkEncoder.encode(timestamps: ts, values: vs)))
        ts.removeAll(keepingCapacity: true)
        vs.removeAll(keepingCapacity: true)
    }

    /// Forgets the sealed chunks, to build the next series' with the same buffers.
    mutating func reset() {
        flush()
        chunks.removeAll()
    }
}
