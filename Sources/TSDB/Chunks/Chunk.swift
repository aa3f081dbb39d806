import Storage

/// An immutable, encoded chunk of one series' samples: a header and two columns.
///
/// Layout (docs/format/chunks.md): encoding byte, uvarint sample count, zigzag varint minimum
/// time, uvarint `maxTime - minTime`, uvarint length of the timestamp column in bytes, the
/// timestamp column, then the value column to the end. The bytes live in memory the chunk
/// keeps alive through `owner` (a heap buffer, or a memory-mapped file in blocks).
///
/// Ownership: immutable; the bytes it points at are never written once the chunk exists
/// (head chunk files only append behind it), so a chunk may be read from any thread.
public struct Chunk: @unchecked Sendable {
    /// The encoded bytes, header included.
    public let bytes: UnsafeRawBufferPointer
    /// Keeps `bytes` valid for as long as the chunk is referenced.
    let owner: AnyObject?
    /// Set for a chunk that could not be read (a checksum mismatch in a block): iterating it
    /// yields nothing and reports this error.
    public let damage: ChunkError?
    /// The timestamp column a `shared` chunk uses (another chunk's, resolved by the block
    /// reader), with that column's encoding.
    public let sharedTimestamps: (encoding: TimestampEncoding, column: UnsafeRawBufferPointer)?

    /// Wraps bytes owned by `owner` (for chunks read from a mapped file); `sharedTimestamps`
    /// is the resolved column of a chunk whose own timestamp column is a reference.
    public init(bytes: UnsafeRawBufferPointer, owner: AnyObject,
                sharedTimestamps: (encoding: TimestampEncoding, column: UnsafeRawBufferPointer)? = nil) {
        self.bytes = bytes
        self.owner = owner
        damage = nil
        self.sharedTimestamps = sharedTimestamps
    }

    /// A chunk that stands for unreadable data.
    public init(damaged error: ChunkError) {
        bytes = UnsafeRawBufferPointer(start: nil, count: 0)
        owner = nil
        damage = error
        sharedTimestamps = nil
    }

    /// Copies `data` into a buffer of the chunk's own.
    public init(copying data: [UInt8]) {
        let storage = ChunkStorage(data)
        self.bytes = UnsafeRawBufferPointer(rebasing: storage.buffer[0..<data.count])
        self.owner = storage
        damage = nil
        sharedTimestamps = nil
    }

    /// Encoded size in bytes.
    public var byteCount: Int { bytes.count }

    /// The parsed header, or why it cannot be parsed.
    public func header() throws(ChunkError) -> ChunkHeader {
        try ChunkHeader(parsing: bytes)
    }

    /// The timestamp column's encoding and bytes, following a shared column to the chunk
    /// that holds it.
    func timestampColumn(_ h: ChunkHeader) throws(ChunkError) -> (TimestampEncoding, UnsafeRawBufferPointer) {
        guard h.encoding.timestamps == .shared else {
            return (h.encoding.timestamps, UnsafeRawBufferPointer(rebasing: bytes[h.timestampColumn]))
        }
        guard let shared = sharedTimestamps else { throw .corruptColumn("shared timestamp column not resolved") }
        // A shared column is a real one: a reference to another reference resolves to nothing
        // (the block reader refuses it too; this keeps every reader of the chunk in agreement).
        guard shared.encoding != .shared else { throw .corruptColumn("shared timestamp column refers to another") }
        return (shared.encoding, shared.column)
    }

    /// The same chunk with its own copy of every column (a shared timestamp column copied
    /// in), as a block writer needs it; other chunks are returned as they are.
    func standalone() throws(ChunkError) -> Chunk {
        guard sharedTimestamps != nil else { return self }
        let h = try header()
        let (encoding, column) = try timestampColumn(h)
        var out: [UInt8] = []
        ChunkHeader.write(encoding: ChunkEncoding(timestamps: encoding, values: h.encoding.values), count: h.count,
                          minTime: h.minTime, maxTime: h.maxTime, timestampBytes: column.count, to: &out)
        out.append(contentsOf: column)
        out.append(contentsOf: bytes[h.valueColumn])
        return Chunk(copying: out)
    }

    /// An iterator over the samples; a chunk that fails to parse yields none and reports why.
    public func makeIterator() -> ChunkIterator {
        if let damage { return ChunkIterator(failed: damage) }
        return ChunkIterator(self)
    }
}

/// A heap buffer owning one chunk's bytes; immutable once filled by `init`.
final class ChunkStorage: @unchecked Sendable {
    let buffer: UnsafeMutableRawBufferPointer

    init(_ data: [UInt8]) {
        buffer = .allocate(byteCount: max(data.count, 1), alignment: 8)
        data.withUnsafeBytes { src in
            if let base = src.baseAddress, let dst = buffer.baseAddress {
                dst.copyMemory(from: base, byteCount: src.count)
            }
        }
        if data.count < buffer.count { buffer[data.count] = 0 }
    }

    deinit { buffer.deallocate() }
}

/// The fields of a chunk header and where its columns lie.
public struct ChunkHeader: Sendable, Equatable {
    /// Most samples a chunk holds. Every writer cuts chunks at or below it (the head at 120,
    /// blocks at 480 by default), and a reader refuses a header that claims more: a few bytes
    /// of regular columns could otherwise announce billions of samples, and readers size
    /// their buffers by the count.
    public static let maxSamples = 1 << 16

    public var encoding: ChunkEncoding
    public var count: Int
    public var minTime: Int64
    public var maxTime: Int64
    /// Byte range of the timestamp column within the chunk.
    public var timestampColumn: Range<Int>
    /// Byte range of the value column within the chunk.
    public var valueColumn: Range<Int>

    init(parsing bytes: UnsafeRawBufferPointer) throws(ChunkError) {
        var c = ByteCursor(bytes)
        guard let e = c.readByte() else { throw .truncatedHeader }
        guard let enc = ChunkEncoding(byte: e) else { throw .unknownEncoding(e) }
        guard let n = c.readUnsigned(), let mint = c.readSigned(), let span = c.readUnsigned(),
              let tsLength = c.readUnsigned() else { throw .truncatedHeader }
        guard n >= 1, n <= UInt64(ChunkHeader.maxSamples) else { throw .invalidHeader("sample count \(n)") }
        guard tsLength <= UInt64(c.remaining) else {
            throw .invalidHeader("timestamp column of \(tsLength) bytes exceeds the chunk")
        }
        encoding = enc
        count = Int(n)
        minTime = mint
        maxTime = mint &+ Int64(bitPattern: span)
        let tsStart = c.offset
        timestampColumn = tsStart..<(tsStart + Int(tsLength))
        valueColumn = timestampColumn.upperBound..<bytes.count
    }

    /// Appends a header for columns of the given byte lengths.
    static func write(encoding: ChunkEncoding, count: Int, minTime: Int64, maxTime: Int64,
                      timestampBytes: Int, to out: inout [UInt8]) {
        out.append(encoding.byte)
        Varint.appendUnsigned(UInt64(count), to: &out)
        Varint.appendSigned(minTime, to: &out)
        Varint.appendUnsigned(UInt64(bitPattern: maxTime &- minTime), to: &out)
        Varint.appendUnsigned(UInt64(timestampBytes), to: &out)
    }
}
