import Storage

/// A sealed chunk with its time range.
public struct ChunkMeta: Sendable {
    public var minTime: Int64
    public var maxTime: Int64
    public var chunk: Chunk

    public init(minTime: Int64, maxTime: Int64, chunk: Chunk) {
        self.minTime = minTime
        self.maxTime = maxTime
        self.chunk = chunk
    }
}

/// One series in the head: full sealed chunks and an open one.
///
/// Ownership: `ref` and `labels` are immutable; `walLogged` belongs to the WAL's lock; every
/// other field is read and written only under the lock of the stripe that holds the series.
/// How long a series lives and who may keep it: SeriesLifetime.swift.
@usableFromInline
final class MemSeries: @unchecked Sendable {
    let ref: SeriesRef
    let labels: Labels
    var sealed: [ChunkMeta] = []
    var open = ChunkAppender()
    /// Newest timestamp accepted by an appender but not yet committed (or `maxTime`).
    var pendingMaxTime: Int64 = .min
    var pendingLastValue: UInt64 = 0
    /// Deleted time ranges (tombstones), hidden from queries and dropped when blocks are cut.
    var deleted: [DeletedInterval] = []
    /// Whether the WAL holds this series' record; read and written only under the WAL's lock.
    var walLogged = false
    /// Set when truncation drops the series from the head; appends through a handle then fail.
    var removed = false
    /// Samples reserved by appenders and not yet committed or rolled back: while any are, the
    /// series is pinned in the head (their appenders hold it unretained).
    var pendingSamples = 0

    init(ref: SeriesRef, labels: Labels) {
        self.ref = ref
        self.labels = labels
    }

    /// Newest committed timestamp, `Int64.min` when empty.
    var maxTime: Int64 {
        open.count > 0 ? open.maxTime : (sealed.last?.maxTime ?? .min)
    }

    var minTime: Int64 {
        sealed.first?.minTime ?? (open.count > 0 ? open.minTime : .max)
    }

    var lastValueBits: UInt64 {
        open.count > 0 ? open.lastValue.bitPattern : 0
    }

    var isEmpty: Bool { open.count == 0 && sealed.isEmpty }


    /// Checks a sample against committed and pending samples; records it as pending.
    @inline(__always)
    func reserve(_ t: Int64, _ v: Double) throws(AppendError) {
        let newest = max(maxTime, pendingMaxTime)
        if t > newest {
            pendingMaxTime = t
            pendingLastValue = v.bitPattern
            return
        }
        if t < newest { throw .outOfOrderSample }
        let last = pendingMaxTime >= maxTime ? pendingLastValue : lastValueBits
        if last != v.bitPattern { throw .duplicateSampleForTimestamp }
    }

    /// Appends a committed sample; false when it is not newer than the newest (a duplicate of
    /// the newest with the same value is a no-op that returns true).
    @inline(__always)
    func append(_ t: Int64, _ v: Double, options: HeadOptions, chunkFiles: HeadChunkFiles? = nil) -> AppendOutcome {
        if open.count > 0 {
            if t <= open.maxTime {
                return t == open.maxTime && open.lastValue.bitPattern == v.bitPattern ? .duplicate : .outOfOrder
            }
            if open.count >= options.chunkSize
                || floorDiv(t, options.chunkRange) != floorDiv(open.minTime, options.chunkRange) {
                cut(chunkFiles)
            }
        } else if let last = sealed.last, t <= last.maxTime {
            return .outOfOrder
        }
        open.append(t, v)
        return .appended
    }

    /// Seals the open chunk into the list of full chunks, moving its bytes to a mapped file
    /// when there is one.
    func cut(_ chunkFiles: HeadChunkFiles? = nil) {
        guard open.count > 0 else { return }
        let chunk = open.seal()
        let stored = chunkFiles?.store(chunk, maxTime: open.maxTime) ?? chunk
        sealed.append(ChunkMeta(minTime: open.minTime, maxTime: open.maxTime, chunk: stored))
        open = ChunkAppender()
    }

    /// The chunks that overlap [mint, maxt], the open one as a snapshot.
    func chunks(mint: Int64, maxt: Int64) -> [ChunkMeta] {
        var out: [ChunkMeta] = []
        for c in sealed where c.maxTime >= mint && c.minTime <= maxt { out.append(c) }
        if open.count > 0 && open.maxTime >= mint && open.minTime <= maxt {
            out.append(ChunkMeta(minTime: open.minTime, maxTime: open.maxTime, chunk: open.snapshot()))
        }
        return out
    }
}

enum AppendOutcome {
    case appended, duplicate, outOfOrder
}
