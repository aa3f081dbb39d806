import Storage

/// Gorilla XOR state for one value column: the previous bit pattern and the window of
/// meaningful bits of the previous non-zero XOR.
@usableFromInline
struct XORState: Sendable {
    @usableFromInline var previous: UInt64 = 0
    /// Leading zeros of the current window; 0xff before the first window is opened.
    @usableFromInline var leading: UInt8 = 0xff
    @usableFromInline var trailing: UInt8 = 0

    @inlinable
    init(first: UInt64) { previous = first }

    /// Appends `bits` after the previous value.
    @inlinable
    mutating func write(_ bits: UInt64, to w: inout BitWriter) {
        let xor = bits ^ previous
        previous = bits
        if xor == 0 {
            w.write(0, bits: 1)
            return
        }
        let lead = UInt8(min(xor.leadingZeroBitCount, 31))
        let trail = UInt8(xor.trailingZeroBitCount)
        if leading != 0xff && lead >= leading && trail >= trailing {
            w.write(0b10, bits: 2)
            w.write(xor &>> UInt64(trailing), bits: 64 - Int(leading) - Int(trailing))
        } else {
            leading = lead
            trailing = trail
            let significant = 64 - Int(lead) - Int(trail)
            w.write(0b11, bits: 2)
            w.write(UInt64(lead), bits: 5)
            w.write(UInt64(significant & 63), bits: 6)  // 64 is written as 0
            w.write(xor &>> UInt64(trail), bits: significant)
        }
    }

    /// Reads the next value's bits. Corrupt input yields garbage bits, never a trap.
    @inlinable @inline(__always)
    mutating func read(from r: inout BitReader) -> UInt64 {
        let control = r.peek(2)
        if control < 0b10 {
            r.skip(1)
            return previous
        }
        r.skip(2)
        if control == 0b11 {
            let lead = Int(r.read(5))
            var significant = Int(r.read(6))
            if significant == 0 { significant = 64 }
            leading = UInt8(truncatingIfNeeded: lead)
            trailing = UInt8(truncatingIfNeeded: 64 &- lead &- significant)
        }
        let significant = 64 &- Int(leading) &- Int(trailing)
        let meaningful = r.readWide(significant & 127 > 64 ? 64 : significant & 127)
        previous ^= meaningful &<< UInt64(trailing & 63)
        return previous
    }
}

/// Decimal scaling: a finite value `v` is exactly `m / 10^e` when dividing the integer `m`
/// (|m| < 2^53, so exact as a Double) by the exact power `10^e` rounds back to `v` bit for bit.
/// IEEE division is correctly rounded, so values parsed from short decimal text qualify.
@usableFromInline
enum DecimalScale {
    @usableFromInline static let maxScale = 15
    /// Exact powers of ten as Doubles (exact up to 10^22).
    @usableFromInline static let powers: [Double] = (0...22).map { e in
        var p = 1.0
        for _ in 0..<e { p *= 10 }
        return p
    }
    static let limit = 9_007_199_254_740_992.0  // 2^53

    /// The integer `m` with `m / 10^scale == v` bit for bit, if there is one.
    @inlinable
    static func mantissa(_ v: Double, scale: Int) -> Int64? {
        let x = v * powers[scale]
        // Adding and removing 1.5 * 2^52 rounds to an integer for |x| < 2^51, without a libm call.
        let m = abs(x) < 2_251_799_813_685_248.0 ? (x + 6_755_399_441_055_744.0) - 6_755_399_441_055_744.0 : x.rounded()
        guard abs(m) < 9_007_199_254_740_992.0 else { return nil }  // also rejects NaN and Inf
        // Check through the integer, exactly as the decoder will compute it (this rejects -0.0).
        let i = Int64(m)
        guard value(i, scale: scale).bitPattern == v.bitPattern else { return nil }
        return i
    }

    /// The smallest scale at which `v` is an exact decimal, if any.
    static func smallestScale(_ v: Double) -> Int? {
        guard v.isFinite else { return nil }
        for e in 0...maxScale {
            if !(abs(v * powers[e]) < limit) { return nil }
            if mantissa(v, scale: e) != nil { return e }
        }
        return nil
    }

    @inlinable @inline(__always)
    static func value(_ m: Int64, scale: Int) -> Double {
        scale == 0 ? Double(m) : Double(m) / powers[scale]
    }
}
