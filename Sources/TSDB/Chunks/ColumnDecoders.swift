import Storage

/// Decodes a timestamp column one sample at a time. The first timestamp is the header's
/// minimum time; `advance()` moves to the next.
@usableFromInline
struct TimestampDecoder {
    @usableFromInline var reader: BitReader
    @usableFromInline let encoding: TimestampEncoding
    @usableFromInline var t: Int64
    /// The delta (delta-of-delta) or the grid point (grid).
    @usableFromInline var delta: Int64 = 0
    @usableFromInline var interval: Int64 = 0
    @usableFromInline var width = 0
    @usableFromInline var base: UInt64 = 0

    init(_ encoding: TimestampEncoding, column: UnsafeRawBufferPointer, minTime: Int64) throws(ChunkError) {
        reader = BitReader(column)
        t = minTime
        self.encoding = encoding
        guard !column.isEmpty else { return }
        switch encoding {
        case .deltaOfDelta: break
        case .packedDelta:
            guard let p = PackedOffsets.readPreamble(from: &reader) else { throw .corruptColumn("timestamp width") }
            (width, base) = p
        case .grid:
            interval = VarBits.readSigned(from: &reader)
            guard let p = PackedOffsets.readPreamble(from: &reader) else { throw .corruptColumn("timestamp width") }
            (width, base) = p
            delta = minTime
        case .shared:
            throw .corruptColumn("a shared timestamp column refers to another shared one")
        }
    }

    @inlinable @inline(__always)
    mutating func advance() {
        switch encoding {
        case .deltaOfDelta:
            delta &+= DeltaOfDelta.read(from: &reader)
            t &+= delta
        case .packedDelta:
            t &+= Int64(bitPattern: base &+ reader.readWide(width))
        case .grid:
            delta &+= interval
            t = delta &+ Int64(bitPattern: base &+ reader.readWide(width))
        case .shared:
            break       // never decoded: the reader resolves shared columns
        }
    }
}

/// Decodes a value column one sample at a time; the first value is read on creation.
@usableFromInline
struct ValueDecoder {
    @usableFromInline var reader: BitReader
    @usableFromInline let encoding: ValueEncoding
    @usableFromInline var xor = XORState(first: 0)
    @usableFromInline var value: Double = 0
    @usableFromInline var mantissa: Int64 = 0
    @usableFromInline var scale = 0
    @usableFromInline var divisor = 1.0
    @usableFromInline var width = 0
    @usableFromInline var base: UInt64 = 0

    init(_ encoding: ValueEncoding, column: UnsafeRawBufferPointer) throws(ChunkError) {
        self.encoding = encoding
        reader = BitReader(column)
        switch encoding {
        case .xor:
            let first = reader.readWide(64)
            xor = XORState(first: first)
            value = Double(bitPattern: first)
        case .constant:
            value = Double(bitPattern: reader.readWide(64))
        case .decimal:
            scale = Int(reader.read(5))
            mantissa = VarBits.readSigned(from: &reader)
            guard let p = PackedOffsets.readPreamble(from: &reader) else { throw .corruptColumn("value width") }
            (width, base) = p
            guard scale <= DecimalScale.maxScale else { throw .corruptColumn("decimal scale \(scale)") }
            divisor = DecimalScale.powers[scale]
            value = DecimalScale.value(mantissa, scale: scale)
        }
        if reader.overrun { throw .corruptColumn("value column shorter than its preamble") }
    }

    @inlinable @inline(__always)
    mutating func advance() {
        switch encoding {
        case .decimal:
            mantissa &+= Int64(bitPattern: base &+ reader.readWide(width))
            value = scale == 0 ? Double(mantissa) : Double(mantissa) / divisor
        case .constant:
            break
        case .xor:
            advanceXOR()
        }
    }

    /// Kept out of line so that `advance()` stays small enough to inline in iteration loops.
    @usableFromInline @inline(never)
    mutating func advanceXOR() {
        value = Double(bitPattern: xor.read(from: &reader))
    }
}
