import Storage
import Synchronization

/// A store in memory for tests that need somewhere to write but not a TSDB: it keeps what
/// appenders commit, series by series in time order, and keeps the `Appender` contract (nothing
/// visible before `commit`, a rollback drops what its appender held, a sample older than its
/// series' newest is refused, one at the same time with another value too). Refs count from 1.
public final class RecordingStore: Appendable, Sendable {
    struct Series {
        let labels: Labels
        var samples: [(t: Int64, v: Double)] = []
    }

    struct State {
        var refs: [Labels: SeriesRef] = [:]
        var series: [Series] = []
        var commits = 0
    }

    let state = Mutex(State())

    public init() {}

    public func makeAppender() -> any Appender { RecordingAppender(store: self) }

    /// Committed samples of the series with exactly these labels, oldest first.
    public func samples(_ labels: Labels) -> [(t: Int64, v: Double)] {
        state.withLock { s in s.refs[labels].map { s.series[Int($0) - 1].samples } ?? [] }
    }

    /// Every series with a committed sample, in order of creation.
    public var series: [Labels] {
        state.withLock { $0.series.filter { !$0.samples.isEmpty }.map(\.labels) }
    }

    /// Commits so far.
    public var commits: Int { state.withLock { $0.commits } }

    /// The ref of `labels`, created when new.
    func ref(for labels: Labels) -> SeriesRef {
        state.withLock { s in
            if let r = s.refs[labels] { return r }
            s.series.append(Series(labels: labels))
            let r = SeriesRef(s.series.count)
            s.refs[labels] = r
            return r
        }
    }

    /// Checks `samples` against what is stored and stores them all, or none.
    func commit(_ samples: [(ref: SeriesRef, t: Int64, v: Double)]) {
        state.withLock { s in
            for (ref, t, v) in samples { s.series[Int(ref) - 1].samples.append((t, v)) }
            s.commits += 1
        }
    }

    /// Why `ref` cannot take a sample at `t` after `pending` ones of this transaction.
    func check(_ ref: SeriesRef, _ t: Int64, _ v: Double, after pending: [(ref: SeriesRef, t: Int64, v: Double)]) throws(AppendError) {
        let stored: (known: Bool, newest: (t: Int64, v: Double)?) = state.withLock { s in
            guard ref > 0 && Int(ref) <= s.series.count else { return (false, nil) }
            return (true, s.series[Int(ref) - 1].samples.last)
        }
        guard stored.known else { throw .unknownSeriesRef(ref) }
        guard let newest = pending.last(where: { $0.ref == ref }).map({ (t: $0.t, v: $0.v) }) ?? stored.newest else { return }
        if t < newest.t { throw .outOfOrderSample }
        if t == newest.t && v.bitPattern != newest.v.bitPattern { throw .duplicateSampleForTimestamp }
    }
}

/// One transaction of a `RecordingStore`.
final class RecordingAppender: Appender {
    let store: RecordingStore
    var pending: [(ref: SeriesRef, t: Int64, v: Double)] = []

    init(store: RecordingStore) { self.store = store }

    func append(_ labels: Labels, _ t: Int64, _ v: Double) throws(AppendError) -> SeriesRef {
        guard !labels.isEmpty else { throw .emptyLabels }
        let ref = store.ref(for: labels)
        try append(ref, t, v)
        return ref
    }

    func append(_ ref: SeriesRef, _ t: Int64, _ v: Double) throws(AppendError) {
        try store.check(ref, t, v, after: pending)
        pending.append((ref, t, v))
    }

    func commit() throws {
        store.commit(pending)
        pending = []
    }

    func rollback() { pending = [] }
}
