import Storage

/// An append-only bit stream, most significant bit first.
///
/// Bits collect in a 64-bit register and are flushed to `bytes` eight at a time, so a write is
/// a shift and an or on the fast path. `finish()` pads the last partial byte with zeros.
@usableFromInline
struct BitWriter: Sendable {
    /// Whole bytes written so far.
    @usableFromInline var bytes: [UInt8]
    /// Pending bits, right-aligned; `pending` of them are meaningful.
    @usableFromInline var register: UInt64 = 0
    @usableFromInline var pending: Int = 0

    @inlinable
    init(capacity: Int = 32) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Number of bits written.
    @inlinable
    var bitCount: Int { bytes.count &* 8 &+ pending }

    /// Appends the low `count` bits of `value` (0...64).
    @inlinable @inline(__always)
    mutating func write(_ value: UInt64, bits count: Int) {
        if count == 0 { return }
        let v = count == 64 ? value : value & ((1 &<< UInt64(count)) &- 1)
        let room = 64 &- pending
        if count < room {
            register = (register &<< UInt64(count)) | v
            pending &+= count
        } else {
            // Fill the register to 64 bits, flush it, keep the rest.
            let rest = count &- room
            let full = room == 64 ? v : (register &<< UInt64(room)) | (v &>> UInt64(rest))
            flush(full)
            register = rest == 0 ? 0 : v & ((1 &<< UInt64(rest)) &- 1)
            pending = rest
        }
    }

    @inlinable @inline(__always)
    mutating func writeBit(_ bit: Bool) {
        write(bit ? 1 : 0, bits: 1)
    }

    @usableFromInline
    mutating func flush(_ word: UInt64) {
        withUnsafeBytes(of: word.bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// The stream as bytes, the last partial byte padded with zero bits.
    @inlinable
    func finish() -> [UInt8] {
        var out = bytes
        appendPending(to: &out)
        return out
    }

    /// Appends the stream's bytes (padded) to `out`.
    @inlinable
    func append(to out: inout [UInt8]) {
        out.append(contentsOf: bytes)
        appendPending(to: &out)
    }

    @inlinable
    func appendPending(to out: inout [UInt8]) {
        var left = pending
        while left > 0 {
            let shift = left - 8
            let byte = shift >= 0 ? UInt8(truncatingIfNeeded: register &>> UInt64(shift))
                : UInt8(truncatingIfNeeded: register &<< UInt64(-shift))
            out.append(byte)
            left -= 8
        }
    }

    /// Bytes `finish()` would return.
    @inlinable
    var byteCount: Int { bytes.count &+ (pending &+ 7) / 8 }
}
