import Synchronization
import Storage

/// The head's inverted index: label name -> value -> sorted series refs, plus the list of
/// every ref. Written when a series is created, read by queries.
final class MemPostings: Sendable {
    struct State {
        var index: [String: [String: [SeriesRef]]] = [:]
        var all: [SeriesRef] = []
    }

    let state = Locked(State())

    /// Adds a new series. Refs usually arrive in increasing order; a late one is moved into place.
    func add(_ ref: SeriesRef, _ labels: Labels) {
        state.withLock { s in
            insertSorted(ref, into: &s.all)
            for l in labels {
                insertSorted(ref, into: &s.index[l.name, default: [:]][l.value, default: []])
            }
        }
    }

    /// Removes a series (after its data is gone from the head).
    func remove(_ ref: SeriesRef, _ labels: Labels) {
        state.withLock { s in
            removeSorted(ref, from: &s.all)
            for l in labels {
                removeSorted(ref, from: &s.index[l.name, default: [:]][l.value, default: []])
                if s.index[l.name]?[l.value]?.isEmpty == true { s.index[l.name]?[l.value] = nil }
                if s.index[l.name]?.isEmpty == true { s.index[l.name] = nil }
            }
        }
    }

    func labelNames() -> [String] {
        state.withLock { Array($0.index.keys) }.sorted()
    }

    /// Refs of new series land near the end (each stripe numbers its series in order), so
    /// most inserts append; others move the tail once.
    private func insertSorted(_ ref: SeriesRef, into list: inout [SeriesRef]) {
        guard let last = list.last, last > ref else { list.append(ref); return }
        list.insert(ref, at: Postings.lowerBound(list, ref, from: 0))
    }

    private func removeSorted(_ ref: SeriesRef, from list: inout [SeriesRef]) {
        let i = Postings.lowerBound(list, ref, from: 0)
        if i < list.count && list[i] == ref { list.remove(at: i) }
    }
}

extension MemPostings: PostingsIndex {
    func postings(name: String, value: String) -> [SeriesRef] {
        state.withLock { $0.index[name]?[value] ?? [] }
    }

    func labelValues(name: String) -> [String] {
        state.withLock { s in s.index[name].map { Array($0.keys) } ?? [] }
    }

    func allPostings() -> [SeriesRef] {
        state.withLock { $0.all }
    }
}
