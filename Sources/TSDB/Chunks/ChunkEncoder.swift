import Storage

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
        // One pass for the delta-of-delta cost and the range of the deltas.
        var dodBits = 0, previous: Int64 = 0
        var dMin = Int64.max, dMax = Int64.min
        for i in 1..<n {
            let d = t[i] &- t[i - 1]
            dodBits &+= DeltaOfDelta.cost(d &- previous)
            previous = d
            dMin = min(dMin, d)
            dMax = max(dMax, d)
        }
        let packed = PackedOffsets.plan(min: dMin, max: dMax, count: n - 1)
        // The grid's interval: the cheapest of a few estimates (scrape intervals are round).
        let median = median3(t[1] &- t[0], t[n / 2] &- t[n / 2 - 1], t[n - 1] &- t[n - 2])
        let mean = (t[n - 1] &- t[0]) / Int64(n - 1)
        var interval = median
        var grid: (width: Int, base: Int64, cost: Int)? = nil
        var tried: (Int64, Int64, Int64) = (0, 0, 0)
        for (k, c) in [median, round(median, 1000), mean, round(mean, 1000)].enumerated() {
            if k > 0 && (c == tried.0 || c == tried.1 || c == tried.2) { continue }
            switch k { case 0: tried.0 = c; case 1: tried.1 = c; default: tried.2 = c }
            var g = t[0], rMin = Int64.max, rMax = Int64.min
            for i in 1..<n {
                g &+= c
                let r = t[i] &- g
                rMin = min(rMin, r)
                rMax = max(rMax, r)
            }
            if let plan = PackedOffsets.plan(min: rMin, max: rMax, count: n - 1),
               plan.cost + VarBits.costSigned(c) < (grid?.cost ?? .max) {
                interval = c
                grid = (plan.width, plan.base, plan.cost + VarBits.costSigned(c))
            }
        }
        let choice: TimestampEncoding
        if let only, only != .shared {
            choice = only
        } else if let grid, grid.cost < min(packed?.cost ?? .max, dodBits) {
            choice = .grid
        } else if let packed, packed.cost < dodBits {
            choice = .packedDelta
        } else {
            choice = .deltaOfDelta
        }
        switch choice {
        case .deltaOfDelta, .shared:
            var prev: Int64 = 0
            for i in 1..<n {
                let d = t[i] &- t[i - 1]
                DeltaOfDelta.write(d &- prev, to: &w)
                prev = d
            }
        case .packedDelta:
            // Modular offsets from the minimum delta are exact whatever the range.
            let width = packed?.width ?? 64
            PackedOffsets.writePreamble(width: width, base: dMin, to: &w)
            for i in 1..<n { w.write(UInt64(bitPattern: t[i] &- t[i - 1] &- dMin), bits: width) }
        case .grid:
            // Without a plan (forced, range beyond 64 bits) full-width modular offsets are exact.
            let width = grid?.width ?? 64, base = grid?.base ?? 0
            VarBits.writeSigned(interval, to: &w)
            PackedOffsets.writePreamble(width: width, base: base, to: &w)
            var g = t[0]
            for i in 1..<n {
                g &+= interval
                w.write(UInt64(bitPattern: t[i] &- g &- base), bits: width)
            }
        }
        return (choice, w)
    }

    static func round(_ v: Int64, _ unit: Int64) -> Int64 {
        let r = v % unit
        return r >= unit / 2 ? v &- r &+ unit : v &- r
    }

    static func median3(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 {
        max(min(a, b), min(max(a, b), c))
    }

    static func encodeValues(_ v: UnsafeBufferPointer<Double>,
                             only: ValueEncoding?) -> (encoding: ValueEncoding, writer: BitWriter) {
        let first = v[0].bitPattern
        if only == nil || only == .constant, v.allSatisfy({ $0.bitPattern == first }) {
            var w = BitWriter(capacity: 8)
            w.write(first, bits: 64)
            return (.constant, w)
        }
        if only == .xor { return (.xor, encodeXOR(v)) }
        let decimal = encodeDecimal(v)
        if only == .decimal, let decimal { return (.decimal, decimal) }
        // Writing the XOR column is skipped when even its lower bound loses to the decimal one.
        if let decimal, decimal.bitCount <= xorLowerBound(v) { return (.decimal, decimal) }
        let xor = encodeXOR(v)
        if let decimal, decimal.bitCount < xor.bitCount { return (.decimal, decimal) }
        return (.xor, xor)
    }

    static func encodeXOR(_ v: UnsafeBufferPointer<Double>) -> BitWriter {
        var w = BitWriter(capacity: v.count * 4)
        var state = XORState(first: v[0].bitPattern)
        w.write(v[0].bitPattern, bits: 64)
        for i in 1..<v.count { state.write(v[i].bitPattern, to: &w) }
        return w
    }

    /// Bits the XOR column takes at least: each change costs its control bits and the span
    /// of its XOR; reopening windows only adds to that.
    static func xorLowerBound(_ v: UnsafeBufferPointer<Double>) -> Int {
        var bits = 64, previous = v[0].bitPattern
        for i in 1..<v.count {
            let x = v[i].bitPattern ^ previous
            previous = v[i].bitPattern
            bits += x == 0 ? 1 : 2 + 64 - x.leadingZeroBitCount - x.trailingZeroBitCount
        }
        return bits
    }

    /// The decimal column if every value is an exact decimal at one scale.
    static func encodeDecimal(_ v: UnsafeBufferPointer<Double>) -> BitWriter? {
        // One scale for the chunk: start from the first value's, raise it when a value needs more.
        guard var scale = DecimalScale.smallestScale(v[0]) else { return nil }
        var deltas: [Int64] = []
        deltas.reserveCapacity(v.count)
        var m0: Int64 = 0
        scan: while true {
            deltas.removeAll(keepingCapacity: true)
            guard let first = DecimalScale.mantissa(v[0], scale: scale) else { return nil }
            m0 = first
            var previous = first
            for i in 1..<v.count {
                guard let m = DecimalScale.mantissa(v[i], scale: scale) else {
                    guard let e = DecimalScale.smallestScale(v[i]), e > scale else { return nil }
                    scale = e
                    continue scan
                }
                deltas.append(m &- previous)
                previous = m
            }
            break
        }
        let plan = PackedOffsets.plan(min: deltas.min() ?? 0, max: deltas.max() ?? 0, count: deltas.count)
            ?? (width: 64, base: 0, cost: 0)   // unreachable: mantissas are below 2^53
        var w = BitWriter(capacity: (plan.cost + 100) / 8)
        w.write(UInt64(scale), bits: 5)
        VarBits.writeSigned(m0, to: &w)
        deltas.withUnsafeBufferPointer { PackedOffsets.write($0, width: plan.width, base: plan.base, to: &w) }
        return w
    }
}
