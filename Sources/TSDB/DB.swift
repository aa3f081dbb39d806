import Foundation
import Logging
import Synchronization
import Storage

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
    /// Samples per chunk in merged blocks (head chunks, and blocks cut from the head, hold
    /// `head.chunkSize`): longer chunks spend less on headers and checksums per sample.
    public var blockChunkSize = 480

    /// The widest block compaction makes; nil for a tenth of the retention, at most 31 days
    /// (Prometheus' `--storage.tsdb.max-block-duration`).
    public var maxBlockDuration: Int64?

    public init() {}

    /// The widest block compaction makes.
    public var maxBlockRange: Int64 { maxBlockDuration ?? min(retentionTime / 10, 31 * 24 * 3_600_000) }
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

/// The storage facade: a data directory with a lock file, a WAL, the head and blocks.
///
/// `open` opens the blocks (a damaged one is reported and left out), then replays the WAL
/// into the head; from then on every commit is written to the WAL before it becomes visible.
/// `compact()` cuts the head into blocks, merges blocks and applies retention.
public final class DB: Sendable {
    public let directory: String
    public let options: DBOptions
    public let head: Head
    /// What the replay on open found.
    public let replayStats: WALReplayStats
    /// Blocks that could not be opened, with the reason; they are left out of queries.
    public let blockProblems: [String]
    let wal: WAL
    let lock: DirectoryLock
    let logger: Logger
    let blockList: Locked<[Block]>
    let compaction = Locked(())
    let checkpointFailures = Atomic<Int>(0)

    /// Checkpoints not written because a WAL segment they read was damaged.
    public var checkpointFailureCount: Int { checkpointFailures.load(ordering: .relaxed) }

    /// Opens (creating if needed) a data directory; fails at once if another process holds it.
    public static func open(directory: String, options: DBOptions = DBOptions(),
                            logger: Logger = Logger(label: "sextant.tsdb")) throws(DBError) -> DB {
        do { try Files.makeDirectory(directory) } catch { throw .io(error) }
        let lock = try DirectoryLock(directory: directory)
        var options = options
        options.head.chunkRange = options.blockRange
        let (blocks, problems) = openBlocks(directory, logger: logger)
        let chunkFiles: HeadChunkFiles
        do { chunkFiles = try HeadChunkFiles(directory: directory + "/chunks_head") } catch { throw .io(error) }
        let head = Head(options: options.head, chunkFiles: chunkFiles)
        if let newest = blocks.map(\.meta.maxTime).max() { head.minValidTime.store(newest, ordering: .relaxed) }
        let walDirectory = directory + "/wal"
        let stats: WALReplayStats
        do { stats = try head.replay(walDirectory: walDirectory, logger: logger) } catch {
            logger.error("WAL replay stopped by an error that is not damage, nothing repaired or removed: \(error)")
            throw .io(error)
        }
        let wal: WAL
        do { wal = try WAL(directory: walDirectory, segmentSize: options.walSegmentSize) } catch { throw .io(error) }
        head.wal = wal
        logger.info("opened \(directory): \(blocks.count) blocks; replayed \(stats.samples) samples of \(stats.series) series from \(stats.segments) WAL segments")
        return DB(directory: directory, options: options, head: head, replayStats: stats, blockProblems: problems,
                  wal: wal, lock: lock, logger: logger, blocks: blocks)
    }

    init(directory: String, options: DBOptions, head: Head, replayStats: WALReplayStats, blockProblems: [String],
         wal: WAL, lock: DirectoryLock, logger: Logger, blocks: [Block]) {
        self.directory = directory
        self.options = options
        self.head = head
        self.replayStats = replayStats
        self.blockProblems = blockProblems
        self.wal = wal
        self.lock = lock
        self.logger = logger
        blockList = Locked(blocks)
    }

    /// Opens every block directory; removes unfinished ones and blocks merged into another
    /// (only leaves them out when `readOnly`).
    static func openBlocks(_ directory: String, logger: Logger, readOnly: Bool = false) -> ([Block], [String]) {
        var blocks: [Block] = []
        var problems: [String] = []
        for name in Files.list(directory) {
            let path = directory + "/" + name
            if name.hasSuffix(BlockWriter.temporarySuffix) {
                if !readOnly { Files.remove(path) }
                continue
            }
            guard ULID.isValid(name), Files.isDirectory(path) else { continue }
            do {
                blocks.append(try Block.open(directory: path))
            } catch {
                let line = "block \(path) left out: \(error)"
                logger.error("\(line)")
                problems.append(line)
            }
        }
        let merged = Set(blocks.flatMap(\.meta.compaction.parents))
        if !readOnly { for b in blocks where merged.contains(b.meta.ulid) { b.removeWhenReleased() } }
        blocks.removeAll { merged.contains($0.meta.ulid) }
        blocks.sort { $0.meta.minTime < $1.meta.minTime }
        return (blocks, problems)
    }

    /// A new appender; its commits are logged, then made visible.
    public func appender() -> HeadAppender { head.appender() }

    /// The blocks, oldest first.
    public var blocks: [Block] { blockList.withLock { $0 } }

    /// A querier over everything stored in [mint, maxt]: the head and the overlapping blocks,
    /// each answer read from one consistent view of them (see `StoreQuerier`).
    public func querier(mint: Int64, maxt: Int64) -> any Querier {
        StoreQuerier(head: head, blocks: { [self] in blocks }, mint: mint, maxt: maxt)
    }

    /// Cuts the head into blocks while it spans more than 1.5 block ranges, merges blocks,
    /// and deletes blocks past retention. Safe to call at any time; runs one at a time.
    public func compact() throws {
        try compaction.withLock { _ in
            try compactHead()
            try compactBlocks()
            applyRetention()
        }
    }

    func compactHead() throws {
        let range = options.blockRange
        while true {
            let stats = head.stats
            guard stats.maxTime != .min, stats.minTime != .max else { return }
            // Never past the clock's future window: no sample can make the head cut early.
            let newest = min(stats.maxTime, options.head.latestTime)
            let mint = floorDiv(stats.minTime, range) * range
            guard newest - mint > range * 3 / 2 else { return }
            let maxt = mint + range
            let closed = try wal.cut()
            raiseMinValidTime(maxt)
            head.commitGate.drain()
            let series = try head.chunksForBlock(mint: mint, maxt: maxt)
            if !series.isEmpty {
                let meta = try BlockWriter.write(parent: directory, minTime: mint, maxTime: maxt, level: 1,
                                                 sources: [], parents: []) { emit in
                    for (labels, chunks) in series { try emit(labels, chunks) }
                }
                let block = try Block.open(directory: directory + "/" + meta.ulid)
                blockList.withLock { $0.append(block); $0.sort { $0.meta.minTime < $1.meta.minTime } }
                logger.info("wrote block \(meta.ulid) [\(mint), \(maxt)): \(meta.stats.numSeries) series, \(meta.stats.numSamples) samples")
            }
            head.truncate(before: maxt)
            do {
                try Checkpoint.create(walDirectory: wal.directory, upTo: closed, head: head, keepFrom: maxt)
            } catch let error as CheckpointError {
                // The head still has every sample; the next open repairs the damage. Blocks,
                // compaction and retention go on meanwhile.
                checkpointFailures.add(1, ordering: .relaxed)
                logger.error("\(error)")
            }
        }
    }

    func raiseMinValidTime(_ t: Int64) {
        var current = head.minValidTime.load(ordering: .relaxed)
        while current < t {
            let (done, now) = head.minValidTime.compareExchange(expected: current, desired: t, ordering: .relaxed)
            if done { break }
            current = now
        }
    }

    func compactBlocks() throws {
        let levels = Compactor.levels(blockRange: options.blockRange, maxRange: options.maxBlockRange)
        while let group = Compactor.plan(blocks, levels: levels, completeBefore: head.minValidTime.load(ordering: .relaxed)) {
            let meta = try Compactor.merge(group, into: directory, chunkSize: options.blockChunkSize)
            let merged = try Block.open(directory: directory + "/" + meta.ulid)
            let gone = Set(group.map(\.meta.ulid))
            blockList.withLock { list in
                list.removeAll { gone.contains($0.meta.ulid) }
                list.append(merged)
                list.sort { $0.meta.minTime < $1.meta.minTime }
            }
            for b in group { b.removeWhenReleased() }
            logger.info("compacted \(group.count) blocks into \(meta.ulid) (level \(meta.compaction.level))")
        }
    }

    func applyRetention() {
        // Measured from the newest sample, but never from past the clock's future window: a
        // block stamped in the future cannot push the rest of history out.
        let newest = min(max(head.stats.maxTime, blocks.last?.meta.maxTime ?? .min), options.head.latestTime)
        guard newest != .min else { return }
        var doomed = blocks.filter { $0.meta.maxTime <= newest - options.retentionTime }
        if let limit = options.retentionSize {
            var total = wal.size + blocks.reduce(0) { $0 + $1.size }
            for b in blocks where total > limit {
                if !doomed.contains(where: { $0 === b }) { doomed.append(b) }
                total -= b.size
            }
        }
        guard !doomed.isEmpty else { return }
        let ids = Set(doomed.map(\.meta.ulid))
        blockList.withLock { $0.removeAll { ids.contains($0.meta.ulid) } }
        for b in doomed {
            b.removeWhenReleased()
            logger.info("retention deleted block \(b.meta.ulid) [\(b.meta.minTime), \(b.meta.maxTime))")
        }
    }

    // MARK: - Deletion and snapshots

    /// Deletes the samples of the matching series in [mint, maxt]: tombstones in the head
    /// (logged to the WAL) and in every overlapping block. Queries stop returning them at once;
    /// compaction and `cleanTombstones()` remove them from disk.
    public func delete(_ matchers: [LabelMatcher], mint: Int64, maxt: Int64) throws {
        let stones = head.delete(matchers, mint: mint, maxt: maxt)
        if !stones.isEmpty {
            try wal.log { WALEncoding.encodeTombstones(stones, into: &$0) }
        }
        for b in blocks where b.meta.maxTime > mint && b.meta.minTime <= maxt {
            try b.delete(matchers, mint: mint, maxt: maxt)
        }
    }

    /// Rewrites every block that has tombstones without the deleted samples.
    public func cleanTombstones() throws {
        try compaction.withLock { _ in
            for b in blocks where b.hasTombstones {
                let meta = try Compactor.merge([b], into: directory, chunkSize: options.blockChunkSize)
                let clean = try Block.open(directory: directory + "/" + meta.ulid)
                blockList.withLock { list in
                    list.removeAll { $0.meta.ulid == b.meta.ulid }
                    list.append(clean)
                    list.sort { $0.meta.minTime < $1.meta.minTime }
                }
                b.removeWhenReleased()
                logger.info("rewrote block \(b.meta.ulid) without its deleted samples as \(meta.ulid)")
            }
        }
    }

    /// Writes a snapshot of the store into `directory`: hard links to the blocks' files and,
    /// with `includeHead`, the head's samples as one more block.
    public func snapshot(into target: String, includeHead: Bool) throws {
        try Files.makeDirectory(target)
        for b in blocks {
            let dest = target + "/" + b.meta.ulid
            try Files.makeDirectory(dest + "/chunks")
            for name in ["meta.json", "index.db", TombstoneFile.name] + Files.list(b.directory + "/chunks").map({ "chunks/" + $0 }) {
                let from = b.directory + "/" + name
                guard Files.exists(from) else { continue }
                try Files.link(from, dest + "/" + name)
            }
        }
        guard includeHead else { return }
        let stats = head.stats
        guard stats.maxTime != .min else { return }
        let series = try head.allChunks()
        guard !series.isEmpty else { return }
        _ = try BlockWriter.write(parent: target, minTime: stats.minTime, maxTime: stats.maxTime + 1, level: 1,
                                  sources: [], parents: []) { emit in
            for (labels, chunks) in series { try emit(labels, chunks) }
        }
    }

    /// Bytes on disk: blocks and WAL.
    public var size: Int { wal.size + blocks.reduce(0) { $0 + $1.size } }

    /// Flushes the WAL and releases the directory.
    public func close() {
        wal.close()
        lock.release()
    }
}
