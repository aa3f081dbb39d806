import Storage

/// Reads a bit stream written by `BitWriter`, most significant bit first, through a 64-bit
/// register refilled eight bytes at a time.
///
/// Reading past the end never traps: it yields zero bits and sets `overrun`, which decoders
/// check once per sample or at the end (errors are reported, not trapped on).
@usableFromInline
struct BitReader {
    @usableFromInline let base: UnsafePointer<UInt8>
    @usableFromInline let end: Int
    /// Next byte to load into the register.
    @usableFromInline var offset: Int
    /// Valid bits, left-aligned.
    @usableFromInline var register: UInt64 = 0
    @usableFromInline var valid: Int = 0
    /// Set once a read went past the end of the stream.
    @usableFromInline var overrun = false

    @inlinable
    init(_ buffer: UnsafeRawBufferPointer) {
        // An empty buffer has no base address; any valid pointer serves since nothing is read.
        base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? BitReader.emptyBase
        end = buffer.count
        offset = 0
    }

    @usableFromInline
    nonisolated(unsafe) static let emptyBase: UnsafePointer<UInt8> = {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 8)
        p.initialize(repeating: 0, count: 8)
        return UnsafePointer(p)
    }()

    /// Tops the register up to at least 57 valid bits while input lasts.
    @inlinable @inline(__always)
    mutating func refill() {
        if offset &+ 8 <= end {
            let word = UInt64(bigEndian: UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self))
            // Bits past `valid` already in the register are the same stream bytes: or-ing is safe.
            register |= word &>> UInt64(valid)
            let take = (64 &- valid) &>> 3
            offset &+= take
            valid &+= take &<< 3
        } else {
            refillSlow()
        }
    }

    @usableFromInline
    mutating func refillSlow() {
        while valid <= 56 && offset < end {
            register |= UInt64(base[offset]) &<< UInt64(56 &- valid)
            offset &+= 1
            valid &+= 8
        }
    }

    /// Reads `count` bits (1...56) as the low bits of the result.
    @inlinable @inline(__always)
    mutating func read(_ count: Int) -> UInt64 {
        if valid < count {
            refill()
            if valid < count { return readShort(count) }
        }
        let v = register &>> UInt64(64 &- count)
        register = register &<< UInt64(count)
        valid &-= count
        return v
    }

    @usableFromInline
    mutating func readShort(_ count: Int) -> UInt64 {
        overrun = true
        let v = register &>> UInt64(64 &- count)
        register = 0
        valid = 0
        return v
    }

    /// Reads `count` bits, 0...64.
    @inlinable @inline(__always)
    mutating func readWide(_ count: Int) -> UInt64 {
        if count == 0 { return 0 }
        if count <= 56 { return read(count) }
        let high = read(count &- 32)
        let low = read(32)
        return (high &<< 32) | low
    }

    @inlinable @inline(__always)
    mutating func readBit() -> Bool {
        read(1) != 0
    }

    /// Looks at the next `count` bits (1...56) without consuming them; zeros past the end.
    @inlinable @inline(__always)
    mutating func peek(_ count: Int) -> UInt64 {
        if valid < count { refill() }
        return register &>> UInt64(64 &- count)
    }

    /// Consumes `count` bits previously peeked.
    @inlinable @inline(__always)
    mutating func skip(_ count: Int) {
        if valid < count {
            overrun = true
            register = 0
            valid = 0
            return
        }
        register = register &<< UInt64(count)
        valid &-= count
    }
}
