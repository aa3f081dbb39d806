#if canImport(Glibc)
import Glibc
#endif
import Storage

/// A point in the WAL: a segment, the byte offset of a record in it, and a sample index in
/// that record. Ordered as the log is read.
public struct WALPosition: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var segment: Int
    public var offset: Int
    public var sample: Int

    public init(segment: Int, offset: Int, sample: Int = 0) {
        self.segment = segment
        self.offset = offset
        self.sample = sample
    }

    public static func < (a: WALPosition, b: WALPosition) -> Bool {
        (a.segment, a.offset, a.sample) < (b.segment, b.offset, b.sample)
    }

    public var description: String { "\(WAL.segmentName(segment)):\(offset)#\(sample)" }
}

/// A record the tail reader hands on.
public enum WALTailRecord {
    case series([(ref: SeriesRef, labels: Labels)])
    case samples([WALSample])
}

/// Reads the WAL of a DB from outside it, while the DB writes it: what remote write follows.
///
/// Segments only grow at their end, a commit is one `write(2)` of whole records, and a
/// segment is final once a later one exists, so a reader that stops at the first incomplete
/// record and comes back for the rest sees every record once. Checkpoints (`checkpoint.N`) hold
/// the series of the segments up to N that the DB deleted.
public struct WALTail: Sendable {
    public let directory: String

    /// The WAL of the DB in `dataDirectory`.
    public init(dataDirectory: String) {
        directory = dataDirectory + "/wal"
    }

    /// Segment indices, ascending.
    public var segments: [Int] { WAL.segmentIndices(in: directory) }

    /// The bytes in a segment now (0 when it is gone).
    public func size(of segment: Int) -> Int { Files.size(WAL.segmentPath(directory, segment)) ?? 0 }

    /// The newest checkpoint's index: segments up to it are gone.
    public var latestCheckpoint: Int? { Checkpoint.latest(in: directory) }

    /// What reading a segment found.
    public struct Read: Sendable {
        /// The offset after the last whole record read.
        public var end: Int
        /// Why reading stopped before the end of the file: a record that is torn (normal at
        /// the live end) or damaged.
        public var stopped: String?
    }

    /// Reads the whole records of `segment` from byte `offset`, each with its own offset.
    /// Throws when the segment is gone or unreadable.
    public func read(segment: Int, from offset: Int, maxBytes: Int = 64 << 20,
                     _ body: (WALTailRecord, Int) -> Void) throws(FileError) -> Read {
        let path = WAL.segmentPath(directory, segment)
        var bytes = try Self.readRange(path, from: offset, maxBytes: maxBytes)
        // A first record larger than `maxBytes` (a commit of many new series) is read whole.
        if bytes.count >= WALEncoding.headerSize {
            let length = bytes.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 1, as: UInt32.self))) }
            let whole = WALEncoding.headerSize + length
            if whole > bytes.count && whole <= WALReader.maxSegmentBytes {
                bytes = try Self.readRange(path, from: offset, maxBytes: whole)
            }
        }
        return bytes.withUnsafeBytes { raw -> Read in
            // One record at a time, so that each is handed on with its offset; the shared
            // reader checks its frame and decodes it.
            var at = 0
            while at < raw.count {
                let rest = raw.count - at
                guard rest >= WALEncoding.headerSize, let base = raw.baseAddress else {
                    return Read(end: offset + at, stopped: "incomplete record header at offset \(offset + at)")
                }
                let length = Int(UInt32(littleEndian: (base + at + 1).loadUnaligned(as: UInt32.self)))
                guard length <= rest - WALEncoding.headerSize else {
                    return Read(end: offset + at, stopped: "incomplete record at offset \(offset + at)")
                }
                let size = WALEncoding.headerSize + length
                let result = WALReader.records(in: UnsafeRawBufferPointer(rebasing: raw[at..<(at + size)])) { record in
                    switch record {
                    case .series(let s): body(.series(s), offset + at)
                    case .samples(let s): body(.samples(s), offset + at)
                    case .tombstones: break
                    }
                }
                if let damage = result.corruption { return Read(end: offset + at, stopped: damage) }
                at += size
            }
            return Read(end: offset + at, stopped: nil)
        }
    }

    /// The series records of checkpoint `index`.
    public func readCheckpointSeries(_ index: Int, _ body: ([(ref: SeriesRef, labels: Labels)]) -> Void) throws(FileError) {
        let dir = directory + "/" + Checkpoint.name(index)
        for segment in WAL.segmentIndices(in: dir) {
            _ = try WALReader.readSegment(WAL.segmentPath(dir, segment)) { record in
                if case .series(let s) = record { body(s) }
            }
        }
    }

    /// Up to `maxBytes` of a file from `offset` (fewer at its end).
    static func readRange(_ path: String, from offset: Int, maxBytes: Int) throws(FileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw FileError("open", path) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw FileError("stat", path) }
        let count = max(0, min(Int(st.st_size) - offset, maxBytes))
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 { if errno == EINTR { continue }; throw FileError("read", path) }
            if n == 0 { break }
            done += n
        }
        if done < count { out.removeLast(count - done) }
        return out
    }
}
