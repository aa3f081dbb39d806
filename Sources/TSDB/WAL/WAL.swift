import Foundation
import Synchronization
import Storage

/// The write-ahead log: numbered segment files (`00000000`, `00000001`, …) in one directory,
/// each a sequence of framed records (docs/format/wal.md). Writes go to the newest segment;
/// a new one is cut when it would pass `segmentSize`. A write is in the file (the kernel's
/// page cache) when `log` returns, so a killed process loses nothing that was logged.
///
/// Ownership: `directory` and `segmentSize` are immutable; the open file, the segment number
/// and the encoding buffer are owned by `lock` (every method that touches them takes it).
final class WAL: @unchecked Sendable {
    let directory: String
    let segmentSize: Int
    private let lock = NSLock()
    private var file: AppendFile
    private(set) var currentSegment: Int
    /// Reused encoding buffer, only touched under `lock`.
    private var buffer: [UInt8] = []

    /// Opens the log for writing in a fresh segment after the last existing one.
    init(directory: String, segmentSize: Int) throws(FileError) {
        self.directory = directory
        self.segmentSize = segmentSize
        try Files.makeDirectory(directory)
        let next = (WAL.segmentIndices(in: directory).last ?? -1) + 1
        currentSegment = next
        file = try AppendFile(path: WAL.segmentPath(directory, next))
        Files.syncDirectory(directory)
    }

    static func segmentName(_ index: Int) -> String {
        let s = String(index)
        return String(repeating: "0", count: max(0, 8 - s.count)) + s
    }

    static func segmentPath(_ directory: String, _ index: Int) -> String {
        directory + "/" + segmentName(index)
    }

    /// Indices of the segment files in `directory`, ascending.
    static func segmentIndices(in directory: String) -> [Int] {
        Files.list(directory).compactMap { name in
            name.count == 8 && name.allSatisfy(\.isNumber) ? Int(name) : nil
        }.sorted()
    }

    /// Encodes records with `encode` into a reused buffer and appends them, all or nothing.
    /// `encode` runs under the log's lock, so what it decides (which series still need a
    /// series record) is ordered with the write.
    /// `undo` runs, still under the lock, when the write fails.
    func log(_ encode: (inout [UInt8]) -> Void, undo: () -> Void = {}) throws(FileError) {
        lock.lock()
        defer { lock.unlock() }
        buffer.removeAll(keepingCapacity: true)
        encode(&buffer)
        guard !buffer.isEmpty else { return }
        do {
            if file.size > 0 && file.size + buffer.count > segmentSize {
                try cutLocked()
            }
            try file.append(buffer)
        } catch {
            undo()
            throw error
        }
        if buffer.capacity > 1 << 24 { buffer = [] }
    }

    /// Starts a new segment; returns the index of the segment that was closed.
    @discardableResult
    func cut() throws(FileError) -> Int {
        lock.lock()
        defer { lock.unlock() }
        let closed = currentSegment
        try cutLocked()
        return closed
    }

    private func cutLocked() throws(FileError) {
        try file.sync()
        file.close()
        let next = currentSegment + 1
        file = try AppendFile(path: WAL.segmentPath(directory, next))
        currentSegment = next
        Files.syncDirectory(directory)
    }

    /// Deletes the segments numbered below `index`.
    func removeSegments(before index: Int) {
        for i in WAL.segmentIndices(in: directory) where i < index {
            Files.remove(WAL.segmentPath(directory, i))
        }
    }

    /// Bytes in all segments and checkpoints.
    var size: Int { Files.treeSize(directory) }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        try? file.sync()
        file.close()
    }
}
