import TSDB

/// Prometheus' XOR chunk (`chunkenc.EncXOR`), the chunk format of remote read's streamed
/// responses: a 2-byte big-endian sample count, then a bit stream of Gorilla-encoded samples
/// (the first timestamp as a signed varint and value raw, the second timestamp as an unsigned
/// varint delta, then delta-of-deltas in 1/14/17/20/64-bit classes, values as XOR with the
/// previous one, reusing the previous leading/trailing zero window when it fits).
///
/// Sextant stores its own columnar chunks; this encoder only serves readers that expect
/// Prometheus' bytes.
public struct XORChunkEncoder: Sendable {
    /// Most samples Prometheus puts in one chunk.
    public static let maxSamples = 120

    private var stream = MSBBitStream()
    public private(set) var count = 0
    public private(set) var minTime: Int64 = 0
    public private(set) var maxTime: Int64 = 0
    private var value: UInt64 = 0
    private var delta: UInt64 = 0
    private var leading: UInt8 = 0xFF
    private var trailing: UInt8 = 0

    public init() {
        stream.bytes = [0, 0]
    }

    /// Appends a sample; timestamps must not decrease (a query's iterator guarantees it).
    public mutating func append(_ t: Int64, _ v: Double) {
        let bits = v.bitPattern
        switch count {
        case 0:
            stream.writeVarint(t)
            stream.write(bits, 64)
            minTime = t
        case 1:
            delta = UInt64(bitPattern: t &- maxTime)
            stream.writeUvarint(delta)
            writeValue(bits)
        default:
            let d = UInt64(bitPattern: t &- maxTime)
            let dod = Int64(bitPattern: d &- delta)
            writeDeltaOfDelta(dod)
            delta = d
            writeValue(bits)
        }
        maxTime = t
        value = bits
        count += 1
        stream.bytes[0] = UInt8(truncatingIfNeeded: count >> 8)
        stream.bytes[1] = UInt8(truncatingIfNeeded: count)
    }

    /// The chunk's bytes so far.
    public var bytes: [UInt8] { stream.bytes }

    private mutating func writeDeltaOfDelta(_ dod: Int64) {
        func fits(_ n: Int) -> Bool { dod >= -((1 << (n - 1)) - 1) && dod <= 1 << (n - 1) }
        let raw = UInt64(bitPattern: dod)
        if dod == 0 {
            stream.write(0, 1)
        } else if fits(14) {
            stream.write(0b10, 2); stream.write(raw, 14)
        } else if fits(17) {
            stream.write(0b110, 3); stream.write(raw, 17)
        } else if fits(20) {
            stream.write(0b1110, 4); stream.write(raw, 20)
        } else {
            stream.write(0b1111, 4); stream.write(raw, 64)
        }
    }

    private mutating func writeValue(_ bits: UInt64) {
        let x = bits ^ value
        guard x != 0 else { stream.write(0, 1); return }
        stream.write(1, 1)
        var lead = UInt8(x.leadingZeroBitCount)
        let trail = UInt8(x.trailingZeroBitCount)
        if lead >= 32 { lead = 31 }  // the count has 5 bits
        if leading != 0xFF && lead >= leading && trail >= trailing {
            stream.write(0, 1)
            stream.write(x >> trailing, 64 - Int(leading) - Int(trailing))
            return
        }
        leading = lead
        trailing = trail
        stream.write(1, 1)
        stream.write(UInt64(lead), 5)
        let significant = 64 - Int(lead) - Int(trail)
        stream.write(UInt64(significant & 63), 6)  // 64 is written as 0
        stream.write(x >> trail, significant)
    }
}

/// Bits appended most significant first, into whole bytes.
struct MSBBitStream: Sendable {
    var bytes: [UInt8] = []
    /// Free low bits in the last byte.
    private var free = 0

    /// Appends the low `n` bits of `value` (0...64).
    mutating func write(_ value: UInt64, _ n: Int) {
        var left = n
        while left > 0 {
            if free == 0 { bytes.append(0); free = 8 }
            let take = min(free, left)
            let chunk = UInt8(truncatingIfNeeded: (value >> UInt64(left - take)) & ((1 << UInt64(take)) - 1))
            bytes[bytes.count - 1] |= chunk << UInt8(free - take)
            free -= take
            left -= take
        }
    }

    /// A varint, through the bit stream (it is byte-aligned where the format writes them).
    mutating func writeUvarint(_ v: UInt64) {
        var bytes: [UInt8] = []
        Varint.appendUnsigned(v, to: &bytes)
        for b in bytes { write(UInt64(b), 8) }
    }

    /// Go's `binary.PutVarint`: zigzag, then unsigned.
    mutating func writeVarint(_ v: Int64) {
        writeUvarint(Varint.zigzag(v))
    }
}
