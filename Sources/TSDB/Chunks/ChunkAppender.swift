import Storage

/// The open chunk of a series: samples are appended to a delta-of-delta timestamp stream and
/// a Gorilla XOR value stream; `seal()` re-encodes the samples with the smallest encodings.
///
/// The caller guarantees that each timestamp is greater than the previous one.
public struct ChunkAppender: Sendable {
    @usableFromInline var timestampStream = BitWriter(capacity: 32)
    @usableFromInline var valueStream = BitWriter(capacity: 64)
    @usableFromInline var xor = XORState(first: 0)
    @usableFromInline var delta: Int64 = 0
    @usableFromInline var sampleCount = 0
    @usableFromInline var firstTime: Int64 = 0
    @usableFromInline var lastTime: Int64 = 0
    /// Samples appended.
    public var count: Int { sampleCount }
    /// Time of the first sample (meaningful once `count > 0`).
    public var minTime: Int64 { firstTime }
    /// Time of the last sample (meaningful once `count > 0`).
    public var maxTime: Int64 { lastTime }
    /// Value of the last sample (meaningful once `count > 0`).
    public var lastValue: Double { Double(bitPattern: xor.previous) }

    public init() {}

    /// Appends a sample later than every sample appended so far.
    @inlinable
    public mutating func append(_ t: Int64, _ v: Double) {
        if sampleCount == 0 {
            firstTime = t
            valueStream.write(v.bitPattern, bits: 64)
            xor = XORState(first: v.bitPattern)
        } else {
            let d = t &- lastTime
            DeltaOfDelta.write(d &- delta, to: &timestampStream)
            delta = d
            xor.write(v.bitPattern, to: &valueStream)
        }
        lastTime = t
        sampleCount &+= 1
    }

    /// Bytes the open chunk holds in its streams.
    public var byteCount: Int { timestampStream.byteCount + valueStream.byteCount }

    /// The samples so far as a chunk in the appendable encoding (a copy; the appender goes on).
    public func snapshot() -> Chunk {
        precondition(count > 0, "snapshot of an empty chunk")
        var out: [UInt8] = []
        out.reserveCapacity(24 + byteCount)
        ChunkHeader.write(encoding: .appendable, count: count, minTime: minTime, maxTime: maxTime,
                          timestampBytes: timestampStream.byteCount, to: &out)
        timestampStream.append(to: &out)
        valueStream.append(to: &out)
        return Chunk(copying: out)
    }

    /// The samples so far re-encoded with the smallest encodings, as a sealed chunk.
    public func seal() -> Chunk {
        var ts = [Int64](), vs = [Double]()
        ts.reserveCapacity(count)
        vs.reserveCapacity(count)
        var it = snapshot().makeIterator()
        while it.next() {
            let (t, v) = it.at()
            ts.append(t)
            vs.append(v)
        }
        return ChunkEncoder.encode(timestamps: ts, values: vs)
    }
}
