import Logging

/// Settings of a `DB`.
public struct DBOptions: Sendable {
    public var head = HeadOptions()
    /// Largest WAL segment before a new one is started.
    public var walSegmentSize = 128 << 20
    /// Range of the blocks the head is cut into, in milliseconds (2h).
    public var blockRange: Int64 = 2 * 3_600_000
    /// Blocks entirely older than this before the newest sample are deleted (15d).
    public var retentionTime: Int64 = 15 * 24 * 3_600_000
    /// When set, the oldest blocks are deleted while blocks and WAL exceed this many bytes.
    public var retentionSize: Int?

    public init() {}
}

/// Why a data directory could not be opened or written.
public enum DBError: Error, CustomStringConvertible {
    case locked(directory: String, holder: String)
    case io(FileError)

    public var description: String {
        switch self {
        case .locked(let dir, let holder):
            "data directory \(dir) is in use by another process" + (holder.isEmpty ? "" : " (pid \(holder))")
        case .io(let e): e.description
        }
    }
}

/// The storage facade: a data directory with a lock file, a WAL and the head (blocks follow).
///
/// `open` replays the WAL into the head; from then on every commit is written to the WAL
/// before it becomes visible.
public final class DB: Sendable {
    public let directory: String
    public let options: DBOptions
    public let head: Head
    /// What the replay on open found.
    public let replayStats: WALReplayStats
    let wal: WAL
    let lock: DirectoryLock
    let logger: Logger

    /// Opens (creating if needed) a data directory; fails at once if another process holds it.
    public static func open(directory: String, options: DBOptions = DBOptions(),
                            logger: Logger = Logger(label: "sextant.tsdb")) throws(DBError) -> DB {
        do { try Files.makeDirectory(directory) } catch { throw .io(error) }
        let lock = try DirectoryLock(directory: directory)
        let head = Head(options: options.head)
        let walDirectory = directory + "/wal"
        let stats = head.replay(walDirectory: walDirectory, logger: logger)
        let wal: WAL
        do { wal = try WAL(directory: walDirectory, segmentSize: options.walSegmentSize) } catch { throw .io(error) }
        head.wal = wal
        logger.info("opened \(directory): replayed \(stats.samples) samples of \(stats.series) series from \(stats.segments) WAL segments")
        return DB(directory: directory, options: options, head: head, replayStats: stats, wal: wal, lock: lock, logger: logger)
    }

    init(directory: String, options: DBOptions, head: Head, replayStats: WALReplayStats, wal: WAL,
         lock: DirectoryLock, logger: Logger) {
        self.directory = directory
        self.options = options
        self.head = head
        self.replayStats = replayStats
        self.wal = wal
        self.lock = lock
        self.logger = logger
    }

    /// A new appender; its commits are logged, then made visible.
    public func appender() -> HeadAppender { head.appender() }

    /// A querier over everything stored in [mint, maxt].
    public func querier(mint: Int64, maxt: Int64) -> any Querier {
        head.querier(mint: mint, maxt: maxt)
    }

    /// Flushes the WAL and releases the directory.
    public func close() {
        wal.close()
        lock.release()
    }
}
