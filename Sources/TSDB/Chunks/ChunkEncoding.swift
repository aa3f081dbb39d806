import Storage

/// How a chunk's timestamp column is encoded (the high nibble of the encoding byte).
public enum TimestampEncoding: UInt8, Sendable, CaseIterable {
    /// Delta-of-delta in prefix buckets (Gorilla's scheme with millisecond buckets). Appendable.
    case deltaOfDelta = 0
    /// Every delta minus the chunk's smallest delta, bit-packed at one fixed width. Sealed only.
    case packedDelta = 1
    /// Distance of each timestamp from a regular grid `minTime + i * interval`, minus the
    /// smallest distance, bit-packed at one fixed width: jitter costs log2(jitter range) bits.
    /// Sealed only.
    case grid = 2
    /// The column is another chunk's: its bytes hold the offset (uvarint) of a chunk record in
    /// the same block segment whose timestamps are identical (every series of one scrape
    /// shares them). Only in block files; the reader resolves it.
    case shared = 3

    /// The encodings a column can be written in (`shared` is a reference, not an encoding).
    public static var allCases: [TimestampEncoding] { [.deltaOfDelta, .packedDelta, .grid] }
}

/// How a chunk's value column is encoded (the low nibble of the encoding byte).
public enum ValueEncoding: UInt8, Sendable, CaseIterable {
    /// Gorilla XOR with leading/trailing-zero window reuse. Appendable; any bit pattern.
    case xor = 0
    /// One bit pattern repeated: 64 bits for the whole chunk. Sealed only.
    case constant = 1
    /// Values that are decimals `m / 10^e` with one scale `e` per chunk: the integer `m`'s
    /// deltas bit-packed at one fixed width. Sealed only.
    case decimal = 2
}

/// The two encodings of a chunk, as the first byte of its header.
public struct ChunkEncoding: Sendable, Hashable {
    public var timestamps: TimestampEncoding
    public var values: ValueEncoding

    public init(timestamps: TimestampEncoding, values: ValueEncoding) {
        self.timestamps = timestamps
        self.values = values
    }

    /// The encoding of an open, appendable chunk.
    public static let appendable = ChunkEncoding(timestamps: .deltaOfDelta, values: .xor)

    var byte: UInt8 { timestamps.rawValue << 4 | values.rawValue }

    init?(byte: UInt8) {
        guard let t = TimestampEncoding(rawValue: byte >> 4),
              let v = ValueEncoding(rawValue: byte & 0x0f) else { return nil }
        self.init(timestamps: t, values: v)
    }
}

/// Why a chunk could not be read.
public enum ChunkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The header is shorter than its fields.
    case truncatedHeader
    /// The encoding byte names no known encoding.
    case unknownEncoding(UInt8)
    /// A header field is out of range (zero samples, column longer than the chunk, bad width).
    case invalidHeader(String)
    /// A column ended before all its samples were read, or decoded to inconsistent data.
    case corruptColumn(String)

    public var description: String {
        switch self {
        case .truncatedHeader: "chunk header truncated"
        case .unknownEncoding(let b): "unknown chunk encoding byte 0x\(String(b, radix: 16))"
        case .invalidHeader(let why): "invalid chunk header: \(why)"
        case .corruptColumn(let why): "corrupt chunk column: \(why)"
        }
    }
}
