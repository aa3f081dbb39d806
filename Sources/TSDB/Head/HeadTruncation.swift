import Synchronization

extension Head {
    /// Every series with its chunks inside [mint, maxt), in label order, for a new block.
    /// Open chunks that end inside the range are sealed first. Call after raising
    /// `minValidTime` to `maxt`, so no new sample can land in the range.
    func chunksForBlock(mint: Int64, maxt: Int64) -> [(Labels, [ChunkMeta])] {
        var out: [(Labels, [ChunkMeta])] = []
        for i in 0..<stripes.count {
            stripes.withLock(i) { s in
                for list in s.byHash.values {
                    for series in list {
                        if series.open.count > 0 && series.open.maxTime < maxt { series.cut(chunkFiles) }
                        let chunks = series.sealed.filter { $0.minTime >= mint && $0.maxTime < maxt }
                        if !chunks.isEmpty { out.append((series.labels, chunks)) }
                    }
                }
            }
        }
        out.sort { Labels.compare($0.0, $1.0) < 0 }
        return out
    }

    /// Drops the chunks that end before `time` and the series left with no data and no pending
    /// sample. Removed series stay allocated until the next truncation, so an appender that
    /// still holds one never touches freed memory.
    func truncate(before time: Int64) {
        var removed: [MemSeries] = []
        for i in 0..<stripes.count {
            stripes.withLock(i) { s in
                for (hash, list) in s.byHash {
                    var keep: [MemSeries] = []
                    for series in list {
                        series.sealed.removeAll { $0.maxTime < time }
                        if series.isEmpty && series.pendingMaxTime == .min {
                            s.byRef[series.ref] = nil
                            removed.append(series)
                        } else {
                            keep.append(series)
                        }
                    }
                    s.byHash[hash] = keep.isEmpty ? nil : keep
                }
            }
        }
        for series in removed { postings.remove(series.ref, series.labels) }
        counters.seriesCreated.subtract(removed.count, ordering: .relaxed)
        graveyard.withLock { $0 = removed }
        chunkFiles?.truncate(before: time)
        counters.raiseMinTime(to: time)
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
