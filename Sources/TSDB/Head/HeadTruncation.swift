import Synchronization
import Storage

extension Head {
    /// Every series with its chunks inside [mint, maxt), in label order, for a new block.
    /// Open chunks that end inside the range are sealed first. Call after raising
    /// `minValidTime` to `maxt`, so no new sample can land in the range.
    /// Deleted ranges are left out.
    func chunksForBlock(mint: Int64, maxt: Int64) throws -> [(Labels, [ChunkMeta])] {
        try seriesChunks { series in
            if series.open.count > 0 && series.open.maxTime < maxt { series.cut(chunkFiles) }
            return series.sealed.filter { $0.minTime >= mint && $0.maxTime < maxt }
        }
    }

    /// For every series, the chunks `select` picks with deleted samples removed, in label
    /// order, series without any left out. Runs under each stripe's lock in turn.
    func seriesChunks(_ select: (MemSeries) -> [ChunkMeta]) throws -> [(Labels, [ChunkMeta])] {
        var out: [(Labels, [ChunkMeta])] = []
        let chunkSize = options.chunkSize
        for i in 0..<stripes.count {
            try stripes.withLock(i) { (s) throws in
                for list in s.byHash.values {
                    for series in list {
                        let chunks = try Intervals.apply(series.deleted, to: select(series), chunkSize: chunkSize)
                        if !chunks.isEmpty { out.append((series.labels, chunks)) }
                    }
                }
            }
        }
        out.sort { Labels.compare($0.0, $1.0) < 0 }
        return out
    }

    /// Drops the chunks that end before `time` and the series left with no data and no pending
    /// sample (see SeriesLifetime.swift). Counted in `truncations` before anything is dropped.
    func truncate(before time: Int64) {
        truncations.add(1, ordering: .sequentiallyConsistent)
        var removed: [MemSeries] = []
        for i in 0..<stripes.count {
            stripes.withLock(i) { s in
                for list in s.byHash.values {
                    for series in list {
                        series.sealed.removeAll { $0.maxTime < time }
                        series.deleted.removeAll { $0.maxTime < time }
                    }
                }
                removed += removeEmptySeries(&s)
            }
        }
        for series in removed { postings.remove(series.ref, series.labels) }
        counters.seriesCreated.subtract(removed.count, ordering: .relaxed)
        chunkFiles?.truncate(before: time)
        counters.raiseMinTime(to: time)
        checkSeriesInvariants()
    }

    /// Refs and labels of every series in the head.
    func allSeriesRefs() -> [(ref: SeriesRef, labels: Labels)] {
        var out: [(ref: SeriesRef, labels: Labels)] = []
        for i in 0..<stripes.count {
            stripes.withLock(i) { s in
                for list in s.byHash.values { for m in list { out.append((m.ref, m.labels)) } }
            }
        }
        return out
    }

    /// Whether a series with this ref is in the head.
    func contains(_ ref: SeriesRef) -> Bool {
        stripes.withLock(stripe(of: ref)) { $0.byRef[ref] != nil }
    }
}

extension Head {
    /// Marks [mint, maxt] deleted for the matching series; returns the tombstones to log.
    func delete(_ matchers: [LabelMatcher], mint: Int64, maxt: Int64) -> [Tombstone] {
        var out: [Tombstone] = []
        for ref in postings.postings(for: matchers) {
            let added: Bool = stripes.withLock(stripe(of: ref)) { s in
                guard let series = s.byRef[ref]?.takeUnretainedValue() else { return false }
                Intervals.add(DeletedInterval(minTime: mint, maxTime: maxt), to: &series.deleted)
                return true
            }
            if added { out.append(Tombstone(ref: ref, minTime: mint, maxTime: maxt)) }
        }
        return out
    }

    /// Applies a tombstone read from the WAL.
    func restoreTombstone(_ t: Tombstone) {
        stripes.withLock(stripe(of: t.ref)) { s in
            guard let series = s.byRef[t.ref]?.takeUnretainedValue() else { return }
            Intervals.add(DeletedInterval(minTime: t.minTime, maxTime: t.maxTime), to: &series.deleted)
        }
    }

    /// Every head series' deleted ranges, for checkpoints.
    func allTombstones() -> [Tombstone] {
        var out: [Tombstone] = []
        for i in 0..<stripes.count {
            stripes.withLock(i) { s in
                for list in s.byHash.values {
                    for m in list { for d in m.deleted { out.append(Tombstone(ref: m.ref, minTime: d.minTime, maxTime: d.maxTime)) } }
                }
            }
        }
        return out
    }
}

extension Head {
    /// Every series with all its chunks (the open one as a snapshot), deletions applied, in
    /// label order: the head as it would be written to a block, for snapshots.
    func allChunks() throws -> [(Labels, [ChunkMeta])] {
        try seriesChunks { $0.chunks(mint: .min, maxt: .max) }
    }
}
