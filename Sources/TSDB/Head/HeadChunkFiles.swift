import Foundation
#if canImport(Glibc)
import Glibc
import Storage
#endif

/// Full head chunks written to `chunks_head/` and read back through memory maps, so the head's
/// heap holds only open chunks: memory follows the number of active series, not how long the
/// head spans. The files are a cache of the WAL (which alone is replayed on restart), so they
/// carry no checksums and are deleted on open.
///
/// Each segment is a file of `segmentSize` bytes allocated up front (so writing into it cannot
/// run out of disk) and mapped whole; chunks are copied into the mapping behind the last one,
/// without a system call. A segment is deleted once every chunk in it ends before the head's
/// truncation time (chunks still referenced keep their mapping alive).
///
/// Ownership: the segment table, the current segment and each segment's `used` and
/// `maxTime` are owned by `lock`. The bytes of a stored chunk are written once, under the
/// lock, before its `Chunk` is returned, and never again.
final class HeadChunkFiles: @unchecked Sendable {
    final class Segment: @unchecked Sendable {
        let path: String
        let fd: Int32
        let base: UnsafeMutableRawPointer
        let size: Int
        var used = 0
        var maxTime = Int64.min

        init(path: String, size: Int) throws(FileError) {
            self.path = path
            self.size = size
            fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            if fd < 0 { throw FileError("open", path) }
            let reserved = posix_fallocate(fd, 0, off_t(size))
            guard reserved == 0 else {
                Glibc.close(fd)
                Files.remove(path)
                throw FileError("allocate", path, code: reserved)
            }
            guard let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED else {
                let e = FileError("map", path)
                Glibc.close(fd)
                throw e
            }
            base = p
        }

        deinit {
            munmap(base, size)
            Glibc.close(fd)
        }
    }

    let directory: String
    let segmentSize: Int
    private let lock = NSLock()
    private var current: Segment?
    private var segments: [Int: Segment] = [:]
    private var nextIndex = 1

    init(directory: String, segmentSize: Int = 64 << 20) throws(FileError) {
        self.directory = directory
        self.segmentSize = segmentSize
        Files.remove(directory)
        try Files.makeDirectory(directory)
    }

    /// The chunk's bytes moved to a mapped file, or nil when they could not be written (the
    /// caller keeps the chunk in memory).
    func store(_ chunk: Chunk, maxTime: Int64) -> Chunk? {
        let n = chunk.bytes.count
        guard n > 0, n <= segmentSize, let src = chunk.bytes.baseAddress else { return nil }
        lock.lock()
        defer { lock.unlock() }
        if current == nil || current!.used + n > current!.size {
            guard let s = try? Segment(path: directory + "/" + ChunkFiles.name(nextIndex), size: segmentSize) else { return nil }
            segments[nextIndex] = s
            nextIndex += 1
            current = s
        }
        guard let segment = current else { return nil }
        (segment.base + segment.used).copyMemory(from: src, byteCount: n)
        let bytes = UnsafeRawBufferPointer(start: segment.base + segment.used, count: n)
        segment.used += n
        segment.maxTime = max(segment.maxTime, maxTime)
        return Chunk(bytes: bytes, owner: segment)
    }

    /// Deletes the files whose chunks all end before `time` (except the one being written).
    func truncate(before time: Int64) {
        lock.lock()
        defer { lock.unlock() }
        for (i, s) in segments where s !== current && s.maxTime < time {
            Files.remove(s.path)
            segments[i] = nil
        }
    }

    /// Bytes written to the files.
    var bytesWritten: Int {
        lock.lock()
        defer { lock.unlock() }
        return segments.values.reduce(0) { $0 + $1.used }
    }
}
