import Synchronization
import Storage

/// Appends to the head in a transaction: samples are checked and buffered by `append`, and
/// become visible together on `commit()`; `rollback()` drops them. Not for concurrent use:
/// each writer takes its own appender.
public final class HeadAppender: Appender {
    let head: Head
    var pending: [PendingSample] = []

    /// A buffered sample. Its series is pinned in the head until commit or rollback (see
    /// SeriesLifetime.swift), so the reference is kept unretained on this hot path.
    struct PendingSample {
        let unmanaged: Unmanaged<MemSeries>
        /// The series' ref, kept here so that logging does not touch the series again.
        let ref: SeriesRef
        let t: Int64
        let v: Double

        var series: MemSeries { unmanaged.takeUnretainedValue() }
    }

    /// The head's stripe locks, held here as a plain pointer so that taking one costs no
    /// reference counting (the head, which owns them, outlives the appender).
    let stripeLocks: UnsafeMutablePointer<Locked<Head.Stripe>>

    /// Newest timestamp this appender accepts: the clock plus the head's future window, read
    /// once per commit (a clock read per sample would cost more than the append).
    private var latestTime: Int64?

    init(head: Head) {
        self.head = head
        stripeLocks = head.stripes.locks
        pending.reserveCapacity(256)
    }

    /// An appender dropped with samples pending releases their series.
    deinit {
        if !pending.isEmpty { rollback() }
    }

    /// Runs `body` under the lock of the stripe that holds `ref`.
    @inline(__always)
    func withStripeLock<R>(of ref: SeriesRef, _ body: () -> R) -> R {
        stripeLocks[head.stripe(of: ref)].withLock { _ in body() }
    }

    @discardableResult
    public func append(_ labels: Labels, _ t: Int64, _ v: Double) throws(AppendError) -> SeriesRef {
        try appendReturningHandle(labels, t, v).ref
    }

    public func append(_ ref: SeriesRef, _ t: Int64, _ v: Double) throws(AppendError) {
        try head.withSeries(ref) { (s) throws(AppendError) in
            guard let s else { throw .unknownSeriesRef(ref) }
            try reserve(s, t, v)
        }
    }

    public func appendReturningHandle(_ labels: Labels, _ t: Int64, _ v: Double) throws(AppendError) -> SeriesHandle {
        guard !labels.isEmpty else { throw .emptyLabels }
        return try head.withSeries(labels: labels) { (s) throws(AppendError) -> SeriesHandle in
            try reserve(s, t, v)
            return SeriesHandle(ref: s.ref, object: Unmanaged<AnyObject>.passUnretained(s), issuer: ObjectIdentifier(head))
        }
    }

    public func append(_ handle: SeriesHandle, _ t: Int64, _ v: Double) throws(AppendError) {
        // A handle this head did not issue is only a ref.
        guard handle.issuer == ObjectIdentifier(head), let object = handle.object else {
            try append(handle.ref, t, v)
            return
        }
        var failure: AppendError?
        // The issuer check makes the object one of this head's series.
        Unmanaged<MemSeries>.fromOpaque(object.toOpaque())._withUnsafeGuaranteedRef { s in
            withStripeLock(of: handle.ref) {
                if s.removed {
                    failure = .unknownSeriesRef(s.ref)
                    return
                }
                do throws(AppendError) { try reserve(s, t, v) } catch { failure = error }
            }
        }
        if let failure { throw failure }
    }

    @inline(__always)
    func reserve(_ s: MemSeries, _ t: Int64, _ v: Double) throws(AppendError) {
        if t < head.minValidTime.load(ordering: .relaxed) || t < HeadOptions.earliestTime {
            head.counters.outOfBounds.add(1, ordering: .relaxed)
            throw .outOfBounds
        }
        let latest = latestTime ?? head.options.latestTime
        latestTime = latest
        if t > latest {
            head.counters.tooFarInFuture.add(1, ordering: .relaxed)
            throw .tooFarInFuture
        }
        do {
            try s.reserve(t, v)
        } catch {
            if error == .outOfOrderSample {
                head.counters.outOfOrder.add(1, ordering: .relaxed)
            } else {
                head.counters.duplicates.add(1, ordering: .relaxed)
            }
            throw error
        }
        s.pendingSamples += 1
        pending.append(PendingSample(unmanaged: .passUnretained(s), ref: s.ref, t: t, v: v))
    }

    public func commit() throws {
        latestTime = nil
        defer { pending.removeAll(keepingCapacity: true) }
        guard !pending.isEmpty else { return }
        if let wal = head.wal {
            do {
                try log(to: wal)
            } catch {
                rollback()
                throw error
            }
        }
        head.commitGate.shared { apply() }
    }

    /// Applies the pending samples to their series (after they are logged).
    private func apply() {
        var appended = 0, outOfOrder = 0
        var lo = Int64.max, hi = Int64.min
        let options = head.options
        let chunkFiles = head.chunkFiles
        let minValid = head.minValidTime.load(ordering: .relaxed)
        for p in pending {
            let outcome = p.unmanaged._withUnsafeGuaranteedRef { series in
                withStripeLock(of: p.ref) {
                    let o = p.t < minValid ? AppendOutcome.outOfOrder : series.append(p.t, p.v, options: options, chunkFiles: chunkFiles)
                    series.pendingMaxTime = .min
                    series.pendingSamples -= 1
                    return o
                }
            }
            switch outcome {
            case .appended:
                appended += 1
                lo = min(lo, p.t)
                hi = max(hi, p.t)
            case .duplicate: break
            case .outOfOrder: outOfOrder += 1
            }
        }
        head.counters.samplesAppended.add(appended, ordering: .relaxed)
        if outOfOrder > 0 { head.counters.outOfOrder.add(outOfOrder, ordering: .relaxed) }
        if appended > 0 { head.counters.extend(min: lo, max: hi) }
    }

    /// Writes the records of this commit: series not yet in the log, then the samples.
    func log(to wal: WAL) throws(FileError) {
        var marked: [MemSeries] = []
        try wal.log({ buffer in
            var newSeries: [(ref: SeriesRef, labels: Labels)] = []
            for p in pending {
                p.unmanaged._withUnsafeGuaranteedRef { s in
                    if !s.walLogged {
                        s.walLogged = true
                        marked.append(s)
                        newSeries.append((s.ref, s.labels))
                    }
                }
            }
            if !newSeries.isEmpty { WALEncoding.encodeSeries(newSeries, into: &buffer) }
            WALEncoding.encodeSamples(pending.lazy.map { WALSample(ref: $0.ref, t: $0.t, v: $0.v) },
                                      count: pending.count, into: &buffer)
        }, undo: {
            for s in marked { s.walLogged = false }
        })
    }

    public func rollback() {
        latestTime = nil
        for p in pending {
            withStripeLock(of: p.ref) {
                p.unmanaged._withUnsafeGuaranteedRef { s in
                    s.pendingMaxTime = .min
                    s.pendingSamples -= 1
                }
            }
        }
        pending.removeAll(keepingCapacity: true)
    }
}
