import CZlib
#if canImport(Glibc)
import Glibc
import Storage
#endif

/// What reading a segment found.
struct SegmentReadResult {
    /// Bytes of whole, valid records from the start of the segment.
    var validBytes: Int
    /// Why reading stopped before the end, if it did.
    var corruption: String?
}

enum WALReader {
    /// Largest segment read: the writer cuts at 128 MiB; a file far larger is not a segment
    /// this store wrote, and is refused rather than read into memory.
    static let maxSegmentBytes = 1 << 30

    /// Reads the records of one segment in order, stopping at the first torn or corrupt one.
    /// The segment is read with read(2), not mapped: a disk error is then an error this
    /// throws (never damage to repair), where a mapping would kill the process with SIGBUS.
    static func readSegment(_ path: String, _ body: (WALRecord) -> Void) throws(FileError) -> SegmentReadResult {
        if let size = Files.size(path), size > maxSegmentBytes { throw FileError("read (larger than 1 GiB, not a WAL segment)", path, code: EFBIG) }
        let contents = try Files.readAll(path)
        return contents.withUnsafeBytes { records(in: $0, body) }
    }

    /// The records of a segment's bytes, in order, up to the first torn or corrupt one.
    static func records(in bytes: UnsafeRawBufferPointer, _ body: (WALRecord) -> Void) -> SegmentReadResult {
        var offset = 0
        while offset < bytes.count {
            let rest = bytes.count - offset
            guard rest >= WALEncoding.headerSize, let base = bytes.baseAddress else {
                return SegmentReadResult(validBytes: offset, corruption: "torn record header at offset \(offset)")
            }
            let type = bytes[offset]
            let length = Int(UInt32(littleEndian: (base + offset + 1).loadUnaligned(as: UInt32.self)))
            let stored = UInt32(littleEndian: (base + offset + 5).loadUnaligned(as: UInt32.self))
            guard length <= rest - WALEncoding.headerSize else {
                return SegmentReadResult(validBytes: offset,
                                         corruption: "torn record at offset \(offset): \(length) bytes announced, \(rest - WALEncoding.headerSize) left")
            }
            let payloadStart = offset + WALEncoding.headerSize
            var crc = crc32(0, base.assumingMemoryBound(to: UInt8.self) + offset, 1)
            crc = crc32(crc, base.assumingMemoryBound(to: UInt8.self) + payloadStart, UInt32(length))
            guard UInt32(truncatingIfNeeded: crc) == stored else {
                return SegmentReadResult(validBytes: offset, corruption: "checksum mismatch in record at offset \(offset)")
            }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[payloadStart..<(payloadStart + length)])
            do {
                body(try WALRecord.decode(type: type, payload: payload))
            } catch {
                return SegmentReadResult(validBytes: offset, corruption: "\(error.reason) at offset \(offset)")
            }
            offset = payloadStart + length
        }
        return SegmentReadResult(validBytes: offset, corruption: nil)
    }
}
