import Foundation
import Logging
#if canImport(Glibc)
import Glibc
import Storage
#endif

/// A data directory opened for reading only, by a process that is not its server: the blocks
/// and the WAL replayed into an in-memory head. Nothing in the directory is written, repaired
/// or removed. Fails when a running server holds the directory.
public final class ReadOnlyDB: Sendable {
    public let directory: String
    public let head: Head
    public let blocks: [Block]
    /// Problems met while opening (damaged blocks, a torn WAL tail): reported, not fatal.
    public let problems: [String]
    let lock: SharedLock?

    public static func open(directory: String, logger: Logger = Logger(label: "sextant.tsdb")) throws(DBError) -> ReadOnlyDB {
        guard Files.isDirectory(directory) else { throw .io(FileError("open", directory, code: ENOENT)) }
        let lock = try SharedLock(directory: directory)
        let (blocks, blockProblems) = DB.openBlocks(directory, logger: logger, readOnly: true)
        let head = Head(options: HeadOptions(), chunkFiles: nil)
        if let newest = blocks.map(\.meta.maxTime).max() { head.minValidTime.store(newest, ordering: .relaxed) }
        let stats: WALReplayStats
        do { stats = try head.replay(walDirectory: directory + "/wal", logger: logger, repair: false) } catch { throw .io(error) }
        return ReadOnlyDB(directory: directory, head: head, blocks: blocks,
                          problems: blockProblems + stats.problems, lock: lock)
    }

    init(directory: String, head: Head, blocks: [Block], problems: [String], lock: SharedLock?) {
        self.directory = directory
        self.head = head
        self.blocks = blocks
        self.problems = problems
        self.lock = lock
    }

    /// The WAL's segment files (checkpoints not counted) and bytes (checkpoints included).
    public var walUsage: (segments: Int, bytes: Int) {
        let wal = directory + "/wal"
        return (WAL.segmentIndices(in: wal).count, directorySize(wal))
    }

    /// A querier over everything stored in [mint, maxt].
    public func querier(mint: Int64, maxt: Int64) -> any Querier {
        StoreQuerier.merge(head: head, blocks: blocks, mint: mint, maxt: maxt)
    }
}

/// A shared lock on an existing `lock` file, so a server cannot take the directory while it
/// is read, and reading fails while a server holds it. A directory without a lock file was
/// never served, and is read without one.
final class SharedLock: Sendable {
    let fd: Int32

    init?(directory: String) throws(DBError) {
        let path = directory + "/lock"
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        if flock(fd, LOCK_SH | LOCK_NB) != 0 {
            Glibc.close(fd)
            throw DirectoryLock.heldError(directory)
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        Glibc.close(fd)
    }
}
