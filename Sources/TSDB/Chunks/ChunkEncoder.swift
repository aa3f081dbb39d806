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
        let n = t.count
        var w = BitWriter(capacity: n * 2)
        guard n > 1 else { return (only ?? .deltaOfDelta, w) }
        // Deltas, then (in place, later) distances from the grid.
        var work = [Int64](unsafeUninitializedCapacity: n - 1) { buf, count in
            for i in 1..<n { buf[i - 1] = t[i] &- t[i - 1] }
            count = n - 1
        }
        var dodBits = 0, previous: Int64 = 0
        for d in work {
            dodBits += DeltaOfDelta.cost(d &- previous)
            previous = d
        }
        let packed = work.withUnsafeBufferPointer { PackedOffsets.plan($0) }
        // The grid's interval: the cheapest of a few estimates (scrape intervals are round).
        let median = median(work)
        let mean = (t[n - 1] &- t[0]) / Int64(n - 1)
        var interval = median, grid = (width: 64, base: Int64(0), cost: Int.max)
        for candidate in Set([median, mean, round(median, 10), round(median, 1000), round(mean, 1000)]) {
            for i in 0..<(n - 1) { work[i] = t[i + 1] &- t[0] &- Int64(i + 1) &* candidate }
            let plan = work.withUnsafeBufferPointer { PackedOffsets.plan($0) }
            if plan.cost < grid.cost { (interval, grid) = (candidate, plan) }
        }
        let gridBits = VarBits.costSigned(interval) + grid.cost

        let choice: TimestampEncoding
        if let only { choice = only } else if gridBits < min(packed.cost, dodBits) {
            choice = .grid
        } else {
            choice = packed.cost < dodBits ? .packedDelta : .deltaOfDelta
        }
        switch choice {
        case .deltaOfDelta:
            var prev: Int64 = 0
            for i in 1..<n {
                let d = t[i] &- t[i - 1]
                DeltaOfDelta.write(d &- prev, to: &w)
                prev = d
            }
        case .packedDelta:
            for i in 1..<n { work[i - 1] = t[i] &- t[i - 1] }
            work.withUnsafeBufferPointer { PackedOffsets.write($0, width: packed.width, base: packed.base, to: &w) }
        case .grid:
            for i in 0..<(n - 1) { work[i] = t[i + 1] &- t[0] &- Int64(i + 1) &* interval }
            VarBits.writeSigned(interval, to: &w)
            work.withUnsafeBufferPointer { PackedOffsets.write($0, width: grid.width, base: grid.base, to: &w) }
        }
        return (choice, w)
    }

    static func round(_ v: Int64, _ unit: Int64) -> Int64 {
        let r = v % unit
        return r >= unit / 2 ? v &- r &+ unit : v &- r
    }

    static func median(_ values: [Int64]) -> Int64 {
        var sorted = values
        sorted.sort()
        return sorted[sorted.count / 2]
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
        var deltas: [Int64] = []
        deltas.reserveCapacity(v.count - 1)
        var previous = m0
        for i in 1..<v.count {
            guard let m = DecimalScale.mantissa(v[i], scale: scale) else { return nil }
            deltas.append(m &- previous)
            previous = m
        }
        let plan = deltas.withUnsafeBufferPointer { PackedOffsets.plan($0) }
        guard 5 + VarBits.costSigned(m0) + plan.cost < budget else { return nil }
        var w = BitWriter(capacity: (plan.cost + 100) / 8)
        w.write(UInt64(scale), bits: 5)
        VarBits.writeSigned(m0, to: &w)
        deltas.withUnsafeBufferPointer { PackedOffsets.write($0, width: plan.width, base: plan.base, to: &w) }
        return w
    }
}
