import Storage

/// Delta-of-delta buckets for millisecond timestamps. A prefix of ones ended by a zero picks
/// the payload width; five ones mean a raw 64-bit delta-of-delta.
///
/// | prefix  | payload | range                 |
/// |---------|---------|-----------------------|
/// | `0`     | 0       | 0                     |
/// | `10`    | 7       | -64 ... 63            |
/// | `110`   | 10      | -512 ... 511          |
/// | `1110`  | 14      | -8192 ... 8191        |
/// | `11110` | 20      | -524288 ... 524287    |
/// | `11111` | 64      | any (wrapping)        |
@usableFromInline
enum DeltaOfDelta {
    @usableFromInline static let payloadBits: (Int, Int, Int, Int, Int, Int) = (0, 7, 10, 14, 20, 64)

    @inlinable @inline(__always)
    static func write(_ dod: Int64, to w: inout BitWriter) {
        if dod == 0 {
            w.write(0, bits: 1)
        } else if dod >= -64 && dod <= 63 {
            w.write(0b10, bits: 2); w.write(UInt64(bitPattern: dod), bits: 7)
        } else if dod >= -512 && dod <= 511 {
            w.write(0b110, bits: 3); w.write(UInt64(bitPattern: dod), bits: 10)
        } else if dod >= -8192 && dod <= 8191 {
            w.write(0b1110, bits: 4); w.write(UInt64(bitPattern: dod), bits: 14)
        } else if dod >= -524_288 && dod <= 524_287 {
            w.write(0b11110, bits: 5); w.write(UInt64(bitPattern: dod), bits: 20)
        } else {
            w.write(0b11111, bits: 5); w.write(UInt64(bitPattern: dod), bits: 64)
        }
    }

    /// Bits `write` would use for `dod`.
    @inlinable
    static func cost(_ dod: Int64) -> Int {
        if dod == 0 { return 1 }
        if dod >= -64 && dod <= 63 { return 9 }
        if dod >= -512 && dod <= 511 { return 13 }
        if dod >= -8192 && dod <= 8191 { return 18 }
        if dod >= -524_288 && dod <= 524_287 { return 25 }
        return 69
    }

    @inlinable @inline(__always)
    static func read(from r: inout BitReader) -> Int64 {
        let prefix = r.peek(5)
        let ones = (~(prefix &<< 59)).leadingZeroBitCount
        switch ones {
        case 0: r.skip(1); return 0
        case 1: r.skip(2); return signExtend(r.read(7), bits: 7)
        case 2: r.skip(3); return signExtend(r.read(10), bits: 10)
        case 3: r.skip(4); return signExtend(r.read(14), bits: 14)
        case 4: r.skip(5); return signExtend(r.read(20), bits: 20)
        default: r.skip(5); return Int64(bitPattern: r.readWide(64))
        }
    }
}

@inlinable @inline(__always)
func signExtend(_ v: UInt64, bits: Int) -> Int64 {
    let shift = UInt64(64 &- bits)
    return Int64(bitPattern: v &<< shift) &>> Int64(shift)
}

/// Fixed-width bit packing of unsigned offsets from a signed base: `[width: 7 bits]
/// [base: signed varbits]`
/// then one `width`-bit field per value. Used by the packed timestamp columns and the
/// decimal value column.
@usableFromInline
enum PackedOffsets {
    /// Width in bits needed for `maxOffset`.
    @inlinable
    static func width(for maxOffset: UInt64) -> Int { 64 - maxOffset.leadingZeroBitCount }

    static func cost(count: Int, width: Int, base: Int64) -> Int { 7 + VarBits.costSigned(base) + count * width }

    static func writePreamble(width: Int, base: Int64, to w: inout BitWriter) {
        w.write(UInt64(width), bits: 7)
        VarBits.writeSigned(base, to: &w)
    }

    /// Reads width and base (as the bits to add); nil when the width is impossible.
    static func readPreamble(from r: inout BitReader) -> (width: Int, base: UInt64)? {
        let width = Int(r.read(7))
        let base = UInt64(bitPattern: VarBits.readSigned(from: &r))
        return width <= 64 ? (width, base) : nil
    }

    /// Width, base and cost for packing `count` values in [min, max]; nil when the range does
    /// not fit in 64 bits.
    @inline(__always)
    static func plan(min: Int64, max: Int64, count: Int) -> (width: Int, base: Int64, cost: Int)? {
        let (range, overflow) = max.subtractingReportingOverflow(min)
        if overflow { return nil }
        let width = width(for: UInt64(bitPattern: range))
        return (width, min, cost(count: count, width: width, base: min))
    }

    static func write(_ values: UnsafeBufferPointer<Int64>, width: Int, base: Int64, to w: inout BitWriter) {
        writePreamble(width: width, base: base, to: &w)
        for v in values { w.write(UInt64(bitPattern: v &- base), bits: width) }
    }
}

/// A 64-bit value as a 7-bit length followed by that many bits (0...64).
enum VarBits {
    static func cost(_ v: UInt64) -> Int { 7 + PackedOffsets.width(for: v) }

    static func write(_ v: UInt64, to w: inout BitWriter) {
        let n = PackedOffsets.width(for: v)
        w.write(UInt64(n), bits: 7)
        w.write(v, bits: n)
    }

    static func read(from r: inout BitReader) -> UInt64 {
        let n = Int(r.read(7))
        return r.readWide(min(n, 64))
    }

    static func writeSigned(_ v: Int64, to w: inout BitWriter) { write(Varint.zigzag(v), to: &w) }
    static func readSigned(from r: inout BitReader) -> Int64 { Varint.unzigzag(read(from: &r)) }
    static func costSigned(_ v: Int64) -> Int { cost(Varint.zigzag(v)) }
}
