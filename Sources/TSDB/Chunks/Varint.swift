import Storage

/// LEB128 variable-length integers, as used by chunk headers and on-disk formats (and by
/// protobuf, whose varints are the same).
public enum Varint {
    public static func appendUnsigned(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    public static func appendSigned(_ value: Int64, to out: inout [UInt8]) {
        appendUnsigned(zigzag(value), to: &out)
    }

    @inline(__always)
    public static func zigzag(_ v: Int64) -> UInt64 {
        UInt64(bitPattern: (v &<< 1) ^ (v &>> 63))
    }

    @inline(__always)
    static func unzigzag(_ u: UInt64) -> Int64 {
        Int64(bitPattern: u &>> 1) ^ -Int64(bitPattern: u & 1)
    }

    public static func unsignedSize(_ value: UInt64) -> Int {
        var v = value, n = 1
        while v >= 0x80 { v >>= 7; n += 1 }
        return n
    }
}

/// A bounds-checked reader over bytes: every read is total and returns nil on short input.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func readByte() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUnsigned() -> UInt64? {
        // Fast path: ten bytes are there, so the longest varint needs no bounds checks.
        if bytes.count &- offset >= 10, let base = bytes.baseAddress {
            let p = (base + offset).assumingMemoryBound(to: UInt8.self)
            var result: UInt64 = 0, shift: UInt64 = 0
            for i in 0..<10 {
                let b = p[i]
                result |= UInt64(b & 0x7f) &<< shift
                if b < 0x80 {
                    if i == 9 && b > 1 { return nil }
                    offset &+= i &+ 1
                    return result
                }
                shift &+= 7
            }
            return nil
        }
        return readUnsignedSlow()
    }

    private mutating func readUnsignedSlow() -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while let b = readByte() {
            if shift == 63 && b > 1 { return nil }
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift > 63 { return nil }
        }
        return nil
    }

    mutating func readSigned() -> Int64? {
        readUnsigned().map(Varint.unzigzag)
    }
}
