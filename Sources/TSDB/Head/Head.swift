import Synchronization
import Storage

/// The in-memory head block: series sharded over lock stripes, each with its chunks, an
/// inverted index of their labels, and counters.
///
/// A series ref carries its stripe in the low bits, so a lookup by ref or by label hash takes
/// one stripe lock. Refs increase in creation order.
public final class Head: Sendable {
    public let options: HeadOptions
    let stripes: StripeTable
    let stripeMask: UInt64
    let stripeBits: UInt64
    let nextSequence = Atomic<UInt64>(1)
    let postings = MemPostings()
    let symbols = SymbolTable()
    let counters = HeadCounters()
    /// The log commits are written to before they become visible. Set once by `DB.open`
    /// after replay, before the head is shared with any other thread (the DB's publication
    /// orders the write before every read); never changed after.
    nonisolated(unsafe) var wal: WAL?
    /// Samples older than this are rejected: their time range is in blocks already.
    let minValidTime = Atomic<Int64>(.min)
    /// Held shared by commits while they apply samples (see `CommitGate`).
    let commitGate = CommitGate()
    /// Truncations begun so far; queries read again when it moves (see `StoreQuerier`).
    let truncations = Atomic<UInt64>(0)

    /// One stripe's series (see SeriesLifetime.swift), owned by the stripe's lock.
    struct Stripe {
        /// Lookup by ref without reference counting; `byHash` holds the strong references.
        var byRef: [SeriesRef: Unmanaged<MemSeries>] = [:]
        var byHash: [UInt64: [MemSeries]] = [:]
    }

    /// The stripes, each behind its own lock, in one allocation (no reference counting on
    /// the append path). The pointer and count are immutable; each stripe's state is owned by
    /// its lock.
    final class StripeTable: @unchecked Sendable {
        let locks: UnsafeMutablePointer<Locked<Stripe>>
        let count: Int

        init(count: Int) {
            self.count = count
            locks = .allocate(capacity: count)
            for i in 0..<count { (locks + i).initialize(to: Locked(Stripe())) }
        }

        deinit {
            locks.deinitialize(count: count)
            locks.deallocate()
        }

        @inline(__always)
        func withLock<R, E: Error>(_ index: Int, _ body: (inout Stripe) throws(E) -> R) throws(E) -> R {
            try locks[index].withLock { (s: inout sending Stripe) throws(E) -> sending R in try body(&s) }
        }
    }

    /// Where full chunks go to leave the heap; nil keeps them in memory.
    let chunkFiles: HeadChunkFiles?

    public convenience init(options: HeadOptions = HeadOptions()) {
        self.init(options: options, chunkFiles: nil)
    }

    init(options: HeadOptions, chunkFiles: HeadChunkFiles?) {
        self.options = options
        self.chunkFiles = chunkFiles
        stripes = StripeTable(count: options.stripeCount)
        stripeMask = UInt64(options.stripeCount - 1)
        stripeBits = UInt64(options.stripeCount.trailingZeroBitCount)
    }

    /// A new appender; its samples become visible on `commit()`.
    public func appender() -> HeadAppender {
        HeadAppender(head: self)
    }

    /// A querier over the head's samples in [mint, maxt] (the engine's own type; `querier`
    /// gives it as any `Querier`).
    public func headQuerier(mint: Int64, maxt: Int64) -> HeadQuerier {
        HeadQuerier(head: self, mint: mint, maxt: maxt)
    }

    /// Counters and extent of the head.
    public var stats: HeadStats { counters.snapshot() }

    @inline(__always)
    func stripe(of ref: SeriesRef) -> Int { Int(ref & stripeMask) }

    /// Runs `body` on the series with `ref` under its stripe lock.
    @inline(__always)
    func withSeries<R>(_ ref: SeriesRef, _ body: (MemSeries?) throws(AppendError) -> R) throws(AppendError) -> R {
        try stripes.withLock(stripe(of: ref)) { (s) throws(AppendError) -> R in
            guard let series = s.byRef[ref] else { return try body(nil) }
            return try body(series.takeUnretainedValue())
        }
    }

    /// Finds the series with these labels or creates it, then runs `body` on it under the lock.
    func withSeries<R>(labels: Labels, _ body: (MemSeries) throws(AppendError) -> R) throws(AppendError) -> R {
        let hash = labels.stableHash
        let index = Int(hash & stripeMask)
        var created: MemSeries?
        let result = try stripes.withLock(index) { (s) throws(AppendError) -> R in
            if let existing = s.byHash[hash]?.first(where: { $0.labels == labels }) {
                return try body(existing)
            }
            let seq = nextSequence.wrappingAdd(1, ordering: .relaxed).oldValue
            let ref = (seq << stripeBits) | (hash & stripeMask)
            let series = MemSeries(ref: ref, labels: symbols.intern(labels))
            s.byHash[hash, default: []].append(series)
            s.byRef[ref] = .passUnretained(series)
            created = series
            return try body(series)
        }
        if let series = created {
            postings.add(series.ref, series.labels)
            counters.seriesCreated.add(1, ordering: .relaxed)
        }
        return result
    }

    /// The refs and labels of the series with the given refs, for the querier.
    func labels(of ref: SeriesRef) -> Labels? {
        stripes.withLock(stripe(of: ref)) { $0.byRef[ref]?.takeUnretainedValue().labels }
    }
}

/// Interns label strings so that series sharing names and values share their storage.
final class SymbolTable: Sendable {
    let table = Locked<Set<String>>([])

    func intern(_ labels: Labels) -> Labels {
        table.withLock { t in
            Labels(sorted: labels.pairs.map { p in
                Label(intern(p.name, &t), intern(p.value, &t))
            })
        }
    }

    private func intern(_ s: String, _ t: inout Set<String>) -> String {
        if let existing = t.firstIndex(of: s) { return t[existing] }
        t.insert(s)
        return s
    }

    var count: Int { table.withLock { $0.count } }
}

/// The head's counters, updated without locks.
final class HeadCounters: Sendable {
    let seriesCreated = Atomic<Int>(0)
    let samplesAppended = Atomic<Int>(0)
    let outOfOrder = Atomic<Int>(0)
    let duplicates = Atomic<Int>(0)
    let outOfBounds = Atomic<Int>(0)
    let tooFarInFuture = Atomic<Int>(0)
    let minTime = Atomic<Int64>(.max)
    let maxTime = Atomic<Int64>(.min)

    /// After truncation: the head holds nothing older than `time`.
    func raiseMinTime(to time: Int64) {
        var current = minTime.load(ordering: .relaxed)
        while current < time {
            let (exchanged, now) = minTime.compareExchange(expected: current, desired: time, ordering: .relaxed)
            if exchanged { break }
            current = now
        }
    }

    func extend(min lo: Int64, max hi: Int64) {
        var current = minTime.load(ordering: .relaxed)
        while lo < current {
            let (exchanged, now) = minTime.compareExchange(expected: current, desired: lo, ordering: .relaxed)
            if exchanged { break }
            current = now
        }
        current = maxTime.load(ordering: .relaxed)
        while hi > current {
            let (exchanged, now) = maxTime.compareExchange(expected: current, desired: hi, ordering: .relaxed)
            if exchanged { break }
            current = now
        }
    }

    func snapshot() -> HeadStats {
        HeadStats(series: seriesCreated.load(ordering: .relaxed),
                  samplesAppended: samplesAppended.load(ordering: .relaxed),
                  outOfOrderSamples: outOfOrder.load(ordering: .relaxed),
                  duplicateSamples: duplicates.load(ordering: .relaxed),
                  outOfBoundsSamples: outOfBounds.load(ordering: .relaxed),
                  tooFarInFutureSamples: tooFarInFuture.load(ordering: .relaxed),
                  minTime: minTime.load(ordering: .relaxed),
                  maxTime: maxTime.load(ordering: .relaxed))
    }
}

/// A snapshot of the head's counters.
public struct HeadStats: Sendable, Equatable {
    /// Series in the head.
    public var series: Int
    /// Samples committed.
    public var samplesAppended: Int
    /// Samples rejected for being older than their series' newest sample.
    public var outOfOrderSamples: Int
    /// Samples rejected for repeating the newest timestamp with another value.
    public var duplicateSamples: Int
    /// Samples rejected for falling in a time range already written to a block.
    public var outOfBoundsSamples: Int
    /// Samples rejected for being stamped too far ahead of the clock.
    public var tooFarInFutureSamples: Int
    /// Oldest and newest committed sample times (`Int64.max`/`Int64.min` while empty).
    public var minTime: Int64
    public var maxTime: Int64
}
