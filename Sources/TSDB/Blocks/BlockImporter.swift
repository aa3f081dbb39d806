import Foundation
#if canImport(Glibc)
import Glibc
import Storage
#endif

/// Writes blocks straight from samples that arrive in any order (a backfill, as
/// `promtool tsdb create-blocks-from` does).
///
/// Samples are buffered per block window and spilled to temporary files when the buffer is
/// full; `finish()` then sorts one window at a time and writes it as one block. Memory holds
/// the series' labels, the buffer, and one window's samples (24 bytes each) while it is
/// written. Nothing is visible in the data directory until a block is renamed into place; a
/// crash leaves only a temporary directory that the next open removes.
public final class BlockImporter {
    /// What an import wrote.
    public struct Summary: Sendable, Equatable {
        public var blocks: [BlockMeta]
        /// Samples written (after dropping repeated timestamps).
        public var samples: Int
        /// Samples dropped because their series had another sample at the same timestamp;
        /// the one read last wins.
        public var duplicates: Int
    }

    /// One sample in a window: series id, arrival order (so the last of two samples at one
    /// timestamp wins), time and value. 24 bytes, the unit of spilling.
    struct Record {
        var series: UInt32
        var order: UInt32
        var t: Int64
        var v: Double
    }

    public let directory: String
    public let blockDuration: Int64
    let chunkSize: Int
    let bufferLimit: Int
    let spillDirectory: String
    private let lock: DirectoryLock

    private var labels: [Labels] = []
    private var ids: [Labels: UInt32] = [:]
    private var buffers: [Int64: [Record]] = [:]
    private var spilledCounts: [Int64: Int] = [:]
    private var orders: [Int64: UInt32] = [:]
    private var buffered = 0

    /// Opens `directory` for an import (created when missing; it must not be held by a
    /// server). `bufferLimit` is how many samples are held before spilling to disk.
    public init(directory: String, blockDuration: Int64 = 2 * 3_600_000, chunkSize: Int = DBOptions().blockChunkSize,
                bufferLimit: Int = 4 << 20) throws(DBError) {
        if !Files.isDirectory(directory) {
            do { try Files.makeDirectory(directory) } catch { throw .io(error) }
        }
        lock = try DirectoryLock(directory: directory)
        self.directory = directory
        self.blockDuration = max(blockDuration, 1)
        self.chunkSize = max(chunkSize, 1)
        self.bufferLimit = max(bufferLimit, 1)
        spillDirectory = directory + "/import-" + ULID.make() + BlockWriter.temporarySuffix
        do { try Files.makeDirectory(spillDirectory) } catch { throw .io(error) }
    }

    deinit { Files.remove(spillDirectory) }

    /// Number of distinct series seen so far.
    public var seriesCount: Int { labels.count }

    /// The id of a series, registering it on first sight.
    public func seriesID(_ series: Labels) -> UInt32 {
        if let id = ids[series] { return id }
        let id = UInt32(labels.count)
        labels.append(series)
        ids[series] = id
        return id
    }

    /// Adds a sample of the series `id` (from `seriesID`).
    public func add(_ id: UInt32, _ t: Int64, _ v: Double) throws(FileError) {
        let window = floorDiv(t, blockDuration)
        let order = orders[window, default: 0]
        orders[window] = order &+ 1
        buffers[window, default: []].append(Record(series: id, order: order, t: t, v: v))
        buffered += 1
        if buffered >= bufferLimit { try spill() }
    }

    /// Moves every buffered sample to its window's spill file.
    func spill() throws(FileError) {
        for (window, records) in buffers where !records.isEmpty {
            let file = try AppendFile(path: spillPath(window))
            var failure: FileError?
            records.withUnsafeBytes { bytes in
                do throws(FileError) { try file.append(bytes) } catch { failure = error }
            }
            file.close()
            if let failure { throw failure }
            spilledCounts[window, default: 0] += records.count
        }
        buffers.removeAll(keepingCapacity: true)
        buffered = 0
    }

    func spillPath(_ window: Int64) -> String { spillDirectory + "/\(window)" }

    /// Writes one block per window that has samples, oldest first, and releases the
    /// directory; `progress` hears (windows done, windows in all) after each.
    public func finish(progress: (Int, Int) -> Void = { _, _ in }) throws -> Summary {
        let rank = seriesRanks()
        let windows = Set(buffers.keys).union(spilledCounts.keys).sorted()
        var summary = Summary(blocks: [], samples: 0, duplicates: 0)
        for (k, window) in windows.enumerated() {
            var records = try load(window)
            records.sort { a, b in
                let ra = rank[Int(a.series)], rb = rank[Int(b.series)]
                if ra != rb { return ra < rb }
                if a.t != b.t { return a.t < b.t }
                return a.order < b.order
            }
            let meta = try writeBlock(window: window, records: records, summary: &summary)
            if let meta { summary.blocks.append(meta) }
            progress(k + 1, windows.count)
        }
        Files.remove(spillDirectory)
        lock.release()
        return summary
    }

    /// Each series' position in label order.
    func seriesRanks() -> [UInt32] {
        let order = labels.indices.sorted { Labels.compare(labels[$0], labels[$1]) < 0 }
        var rank = [UInt32](repeating: 0, count: labels.count)
        for (position, id) in order.enumerated() { rank[id] = UInt32(position) }
        return rank
    }

    /// A window's samples: the spilled ones, then the buffered ones.
    func load(_ window: Int64) throws -> [Record] {
        var records: [Record] = []
        if let count = spilledCounts[window] {
            let bytes = try Files.readAll(spillPath(window))
            guard bytes.count == count * MemoryLayout<Record>.stride else {
                throw FileError("read", spillPath(window), code: EIO)
            }
            records = [Record](unsafeUninitializedCapacity: count) { buffer, initialized in
                bytes.withUnsafeBytes { raw in
                    if let base = raw.baseAddress, let target = buffer.baseAddress {
                        memcpy(target, base, raw.count)
                    }
                }
                initialized = count
            }
            Files.remove(spillPath(window))
        }
        records.append(contentsOf: buffers.removeValue(forKey: window) ?? [])
        return records
    }

    /// Writes the sorted samples of one window as a block.
    func writeBlock(window: Int64, records: [Record], summary: inout Summary) throws -> BlockMeta? {
        guard !records.isEmpty else { return nil }
        let mint = window * blockDuration
        return try BlockWriter.write(parent: directory, minTime: mint, maxTime: mint + blockDuration,
                                     level: 1, sources: [], parents: []) { emit in
            var i = 0
            var builder = ChunkBuilder(chunkSize: chunkSize)
            while i < records.count {
                let series = records[i].series
                while i < records.count && records[i].series == series {
                    var last = i
                    while last + 1 < records.count && records[last + 1].series == series && records[last + 1].t == records[i].t {
                        last += 1
                    }
                    summary.duplicates += last - i
                    builder.append(records[last].t, records[last].v)
                    summary.samples += 1
                    i = last + 1
                }
                builder.flush()
                try emit(labels[Int(series)], builder.chunks)
                builder.reset()
            }
        }
    }
}
