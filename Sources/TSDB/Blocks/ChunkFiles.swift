import CZlib
import Synchronization
import Storage

/// Chunk segment files of a block (`chunks/000001`, …): an 8-byte header (`SXCH`, version 1,
/// three zero bytes), then chunks, each `uvarint length, chunk bytes, crc32 (u32 LE) of the
/// chunk bytes`. A chunk ref is `segment << 32 | offset of its length`.
enum ChunkFiles {
    static let magic: [UInt8] = Array("SXCH".utf8) + [1, 0, 0, 0]
    static let maxSegmentSize = 512 << 20

    static func name(_ segment: Int) -> String {
        let s = String(segment)
        return String(repeating: "0", count: max(0, 6 - s.count)) + s
    }
}

/// Writes chunks into segment files, returning their refs.
final class ChunkFileWriter {
    let directory: String
    private var file: AppendFile?
    private var segment = 0
    private var buffer: [UInt8] = []
    private(set) var bytesWritten = 0

    init(directory: String) throws(FileError) {
        self.directory = directory
        try Files.makeDirectory(directory)
    }

    /// Offsets (in the current segment) of the chunks whose timestamp columns later chunks
    /// may share, by header fields and column bytes.
    private var columns: [SharedColumnKey: UInt32] = [:]
    /// Most distinct timestamp columns remembered per segment (about 40 MB at most; a
    /// block of 1000 targets needs a few thousand).
    static let maxSharedColumns = 1 << 18

    func write(_ chunk: Chunk) throws -> UInt64 {
        let own = try chunk.standalone()
        let h = try own.header()
        let key = SharedColumnKey(h, own.bytes)
        if file == nil || file!.size + buffer.count + own.bytes.count + 14 > ChunkFiles.maxSegmentSize {
            try startSegment()
        }
        let offset = (file?.size ?? 0) + buffer.count
        if let key, let target = columns[key] {
            // Every series of one scrape has the same timestamps: keep one copy per segment.
            var shared: [UInt8] = []
            var reference: [UInt8] = []
            Varint.appendUnsigned(UInt64(target), to: &reference)
            ChunkHeader.write(encoding: ChunkEncoding(timestamps: .shared, values: h.encoding.values), count: h.count,
                              minTime: h.minTime, maxTime: h.maxTime, timestampBytes: reference.count, to: &shared)
            shared += reference
            shared.append(contentsOf: own.bytes[h.valueColumn])
            shared.withUnsafeBytes { append(record: $0) }
        } else {
            if let key, columns.count < Self.maxSharedColumns { columns[key] = UInt32(offset) }
            append(record: own.bytes)
        }
        if buffer.count > 1 << 20 { try flush() }
        return UInt64(segment) << 32 | UInt64(offset)
    }

    /// Appends `uvarint length, bytes, crc32` to the buffer.
    private func append(record bytes: UnsafeRawBufferPointer) {
        Varint.appendUnsigned(UInt64(bytes.count), to: &buffer)
        buffer.append(contentsOf: bytes)
        withUnsafeBytes(of: ChunkFileReader.crc(bytes).littleEndian) { buffer.append(contentsOf: $0) }
        bytesWritten += bytes.count
    }

    private func startSegment() throws(FileError) {
        try flush()
        try file?.sync()
        file?.close()
        segment += 1
        columns.removeAll()
        let f = try AppendFile(path: directory + "/" + ChunkFiles.name(segment), truncate: true)
        try f.append(ChunkFiles.magic)
        file = f
    }

    private func flush() throws(FileError) {
        guard let file, !buffer.isEmpty else { return }
        try file.append(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    func finish() throws(FileError) {
        try flush()
        try file?.sync()
        file?.close()
    }
}

/// The memory-mapped chunk segments of a block.
///
/// Chunks are checked against their CRCs. The first read from a segment verifies the whole
/// segment in one sequential pass; a clean segment is not checked again (its file never
/// changes), and a segment with any damage is checked chunk by chunk on every read, so a
/// damaged chunk always reports its damage and the others still read.
final class ChunkFileReader: Sendable {
    let segments: [Int: MappedFile]
    let checks: [Int: SegmentCheck]

    /// Whether a segment's CRCs are all known good.
    final class SegmentCheck: Sendable {
        static let unchecked = 0, clean = 1, damaged = 2
        let state = Atomic<Int>(SegmentCheck.unchecked)
    }

    /// Maps every segment; a missing or foreign file fails the whole block.
    init(directory: String) throws(BlockError) {
        var map: [Int: MappedFile] = [:]
        for name in Files.list(directory) {
            guard let index = Int(name) else { continue }
            let file: MappedFile
            do { file = try MappedFile(path: directory + "/" + name) } catch { throw .chunks(error.description) }
            guard file.bytes.count >= 8, Array(file.bytes[0..<8]) == ChunkFiles.magic else {
                throw .chunks("\(directory)/\(name): not a chunk segment (bad header)")
            }
            map[index] = file
        }
        segments = map
        checks = map.mapValues { _ in SegmentCheck() }
    }

    /// The chunk at `ref`; a damaged one comes back as a chunk that reports the damage when
    /// iterated.
    func chunk(_ ref: UInt64) -> Chunk {
        let segment = Int(ref >> 32), offset = Int(ref & 0xffff_ffff)
        guard let file = segments[segment], let check = checks[segment], offset < file.bytes.count else {
            return Chunk(damaged: .corruptColumn("chunk ref \(ref) outside the block's chunk files"))
        }
        var state = check.state.load(ordering: .acquiring)
        if state == SegmentCheck.unchecked {
            state = Self.verify(file) ? SegmentCheck.clean : SegmentCheck.damaged
            check.state.store(state, ordering: .releasing)
        }
        guard let (bytes, stored, _) = Self.record(at: offset, in: file) else {
            return Chunk(damaged: .corruptColumn("chunk ref \(ref) runs past the end of its segment"))
        }
        if state != SegmentCheck.clean && Self.crc(bytes) != stored {
            return Chunk(damaged: .corruptColumn("checksum mismatch for chunk \(ref) in \(file.path)"))
        }
        guard let first = bytes.first, first >> 4 == TimestampEncoding.shared.rawValue else {
            return Chunk(bytes: bytes, owner: file)
        }
        do throws(ChunkError) {
            return Chunk(bytes: bytes, owner: file, sharedTimestamps: try sharedColumn(of: bytes, in: file, state: state))
        } catch {
            return Chunk(damaged: .corruptColumn("chunk \(ref) in \(file.path): \(error)"))
        }
    }

    /// The timestamp column a shared chunk refers to: the column of the chunk record at the
    /// offset its own column holds, which must have the same count and times.
    func sharedColumn(of bytes: UnsafeRawBufferPointer, in file: MappedFile,
                      state: Int) throws(ChunkError) -> (encoding: TimestampEncoding, column: UnsafeRawBufferPointer) {
        let h = try ChunkHeader(parsing: bytes)
        var c = ByteCursor(UnsafeRawBufferPointer(rebasing: bytes[h.timestampColumn]))
        guard let offset = c.readUnsigned(), offset < UInt64(file.bytes.count),
              let (target, stored, _) = Self.record(at: Int(offset), in: file) else {
            throw .corruptColumn("shared timestamp column reference out of range")
        }
        if state != SegmentCheck.clean && Self.crc(target) != stored { throw .corruptColumn("shared timestamp column: checksum mismatch") }
        let t = try ChunkHeader(parsing: target)
        guard t.encoding.timestamps != .shared, t.count == h.count, t.minTime == h.minTime, t.maxTime == h.maxTime else {
            throw .corruptColumn("shared timestamp column does not match the chunk")
        }
        return (t.encoding.timestamps, UnsafeRawBufferPointer(rebasing: target[t.timestampColumn]))
    }

    /// The chunk bytes and stored CRC of the record at `offset`, and where the next record
    /// starts, if the record lies inside the file.
    static func record(at offset: Int, in file: MappedFile) -> (UnsafeRawBufferPointer, UInt32, next: Int)? {
        guard offset < file.bytes.count, let base = file.bytes.baseAddress else { return nil }
        var c = ByteCursor(UnsafeRawBufferPointer(rebasing: file.bytes[offset...]))
        guard let n = c.readUnsigned(), n + 4 <= UInt64(c.remaining) else { return nil }
        let start = offset + c.offset, end = start + Int(n)
        let stored = UInt32(littleEndian: (base + end).loadUnaligned(as: UInt32.self))
        return (UnsafeRawBufferPointer(rebasing: file.bytes[start..<end]), stored, end + 4)
    }

    static func crc(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        UInt32(truncatingIfNeeded: crc32(0, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt32(bytes.count)))
    }

    /// Walks every record of a segment; true when each one's CRC matches and the records
    /// fill the file exactly.
    static func verify(_ file: MappedFile) -> Bool {
        var offset = ChunkFiles.magic.count
        while offset < file.bytes.count {
            guard let (bytes, stored, next) = record(at: offset, in: file), crc(bytes) == stored else { return false }
            offset = next
        }
        return offset == file.bytes.count
    }
}

/// What makes two chunks' timestamps identical: the encoding, count, first and last time, and
/// the encoded column bytes.
struct SharedColumnKey: Hashable {
    let header: UInt64
    let minTime: Int64
    let maxTime: Int64
    let column: [UInt8]

    /// Nil for chunks not worth sharing (a column of a few bytes costs less than a reference).
    init?(_ h: ChunkHeader, _ bytes: UnsafeRawBufferPointer) {
        guard h.timestampColumn.count >= 4 else { return nil }
        header = UInt64(h.encoding.timestamps.rawValue) << 32 | UInt64(h.count)
        minTime = h.minTime
        maxTime = h.maxTime
        column = Array(bytes[h.timestampColumn])
    }
}
