/// Encodes a run of samples as one sealed chunk, choosing for each column the encoding that
/// takes the fewest bits.
public enum ChunkEncoder {
    /// Encodes samples whose timestamps strictly increase. `only` forces an encoding (used to
    /// measure the Gorilla baseline); otherwise the smallest applicable encodings are chosen.
    public static func encode(timestamps: UnsafeBufferPointer<Int64>, values: UnsafeBufferPointer<Double>,
                              only: ChunkEncoding? = nil) -> Chunk {
        precondition(!timestamps.isEmpty && timestamps.count == values.count, "chunk needs samples")
        let n = timestamps.count
        let ts = encodeTimestamps(timestamps, only: only?.timestamps)
        let vs = encodeValues(values, only: only?.values)
        var out: [UInt8] = []
        out.reserveCapacity(24 + ts.writer.byteCount + vs.writer.byteCount)
        ChunkHeader.write(encoding: ChunkEncoding(timestamps: ts.encoding, values: vs.encoding), count: n,
                          minTime: timestamps[0], maxTime: timestamps[n - 1],
                          timestampBytes: ts.writer.byteCount, to: &out)
        ts.writer.append(to: &out)
        vs.writer.append(to: &out)
        return Chunk(copying: out)
    }

    /// Convenience for arrays.
    public static func encode(timestamps: [Int64], values: [Double], only: ChunkEncoding? = nil) -> Chunk {
        timestamps.withUnsafeBufferPointer { t in
            values.withUnsafeBufferPointer { v in encode(timestamps: t, values: v, only: only) }
        }
    }

    static func encodeTimestamps(_ t: UnsafeBufferPointer<Int64>,
                                 only: TimestampEncoding?) -> (encoding: TimestampEncoding, writer: BitWriter) {
        var dodBits = 0, previousDelta: Int64 = 0
        var minDelta = UInt64.max, maxDelta: UInt64 = 0
        for i in 1..<t.count {
            let d = t[i] &- t[i - 1]
            dodBits += DeltaOfDelta.cost(d &- previousDelta)
            previousDelta = d
            let u = UInt64(bitPattern: d)
            minDelta = min(minDelta, u)
            maxDelta = max(maxDelta, u)
        }
        let width = PackedOffsets.width(for: maxDelta &- minDelta)
        let packedBits = t.count > 1 ? PackedOffsets.cost(count: t.count - 1, width: width) : .max
        let choice = only ?? (packedBits < dodBits ? .packedDelta : .deltaOfDelta)
        var w = BitWriter(capacity: (min(dodBits, packedBits) + 7) / 8)
        switch choice {
        case .deltaOfDelta:
            var prev: Int64 = 0
            for i in 1..<t.count {
                let d = t[i] &- t[i - 1]
                DeltaOfDelta.write(d &- prev, to: &w)
                prev = d
            }
        case .packedDelta:
            guard t.count > 1 else { break }
            PackedOffsets.writePreamble(width: width, base: minDelta, to: &w)
            for i in 1..<t.count {
                w.write(UInt64(bitPattern: t[i] &- t[i - 1]) &- minDelta, bits: width)
            }
        }
        return (choice, w)
    }

    static func encodeValues(_ v: UnsafeBufferPointer<Double>,
                             only: ValueEncoding?) -> (encoding: ValueEncoding, writer: BitWriter) {
        let first = v[0].bitPattern
        if only == nil || only == .constant, v.allSatisfy({ $0.bitPattern == first }) {
            var w = BitWriter(capacity: 8)
            w.write(first, bits: 64)
            return (.constant, w)
        }
        var xorWriter = BitWriter(capacity: v.count * 2)
        if only == nil || only == .xor {
            var state = XORState(first: first)
            xorWriter.write(first, bits: 64)
            for i in 1..<v.count { state.write(v[i].bitPattern, to: &xorWriter) }
            if only == .xor { return (.xor, xorWriter) }
        }
        if let decimal = encodeDecimal(v, budget: only == .decimal ? .max : xorWriter.bitCount) {
            return (.decimal, decimal)
        }
        return (.xor, xorWriter)
    }

    /// The decimal column if every value is an exact decimal at one scale and the column
    /// takes fewer than `budget` bits.
    static func encodeDecimal(_ v: UnsafeBufferPointer<Double>, budget: Int) -> BitWriter? {
        var scale = 0
        for x in v {
            guard let e = DecimalScale.smallestScale(x) else { return nil }
            scale = max(scale, e)
        }
        guard let m0 = DecimalScale.mantissa(v[0], scale: scale) else { return nil }
        var previous = m0
        var minDelta = Int64.max, maxDelta = Int64.min
        for i in 1..<v.count {
            guard let m = DecimalScale.mantissa(v[i], scale: scale) else { return nil }
            minDelta = min(minDelta, m - previous)
            maxDelta = max(maxDelta, m - previous)
            previous = m
        }
        if v.count == 1 { minDelta = 0; maxDelta = 0 }
        let width = PackedOffsets.width(for: UInt64(bitPattern: maxDelta &- minDelta))
        guard 5 + 64 + PackedOffsets.cost(count: v.count - 1, width: width) < budget else { return nil }
        var w = BitWriter(capacity: 18 + (v.count * width + 7) / 8)
        w.write(UInt64(scale), bits: 5)
        w.write(UInt64(bitPattern: m0), bits: 64)
        PackedOffsets.writePreamble(width: width, base: UInt64(bitPattern: minDelta), to: &w)
        previous = m0
        for i in 1..<v.count {
            // Every mantissa was checked above.
            let m = DecimalScale.mantissa(v[i], scale: scale) ?? previous
            w.write(UInt64(bitPattern: m &- previous &- minDelta), bits: width)
            previous = m
        }
        return w
    }
}
