import CZlib

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

    func write(_ chunk: Chunk) throws(FileError) -> UInt64 {
        let length = chunk.bytes.count
        if file == nil || file!.size + buffer.count + length + 14 > ChunkFiles.maxSegmentSize {
            try startSegment()
        }
        let ref = UInt64(segment) << 32 | UInt64((file?.size ?? 0) + buffer.count)
        Varint.appendUnsigned(UInt64(length), to: &buffer)
        buffer.append(contentsOf: chunk.bytes)
        let crc = UInt32(truncatingIfNeeded: crc32(0, chunk.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt32(length)))
        withUnsafeBytes(of: crc.littleEndian) { buffer.append(contentsOf: $0) }
        if buffer.count > 1 << 20 { try flush() }
        bytesWritten += length
        return ref
    }

    private func startSegment() throws(FileError) {
        try flush()
        try file?.sync()
        file?.close()
        segment += 1
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
final class ChunkFileReader: Sendable {
    let segments: [Int: MappedFile]

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
    }

    /// The chunk at `ref`, checked against its CRC; a damaged one comes back as a chunk that
    /// reports the damage when iterated.
    func chunk(_ ref: UInt64) -> Chunk {
        let segment = Int(ref >> 32), offset = Int(ref & 0xffff_ffff)
        guard let file = segments[segment], offset < file.bytes.count else {
            return Chunk(damaged: .corruptColumn("chunk ref \(ref) outside the block's chunk files"))
        }
        var c = ByteCursor(UnsafeRawBufferPointer(rebasing: file.bytes[offset...]))
        guard let n = c.readUnsigned(), n + 4 <= UInt64(c.remaining) else {
            return Chunk(damaged: .corruptColumn("chunk ref \(ref) runs past the end of its segment"))
        }
        let start = offset + c.offset, end = start + Int(n)
        let bytes = UnsafeRawBufferPointer(rebasing: file.bytes[start..<end])
        let stored = UInt32(littleEndian: (file.bytes.baseAddress! + end).loadUnaligned(as: UInt32.self))
        let crc = UInt32(truncatingIfNeeded: crc32(0, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt32(n)))
        guard crc == stored else {
            return Chunk(damaged: .corruptColumn("checksum mismatch for chunk \(ref) in \(file.path)"))
        }
        return Chunk(bytes: bytes, owner: file)
    }
}
