import Storage

/// A querier over the head's in-memory series.
public struct HeadQuerier: Querier {
    let head: Head
    public let mint: Int64
    public let maxt: Int64

    public func select(_ matchers: [LabelMatcher], hints: SelectHints?) -> any SeriesSet {
        ListSeriesSet(selectSeries(matchers))
    }

    /// The matching series with data in range, sorted by labels.
    public func selectSeries(_ matchers: [LabelMatcher]) -> [ChunkSeries] {
        let refs = head.postings.postings(for: matchers)
        var out: [ChunkSeries] = []
        out.reserveCapacity(refs.count)
        for ref in refs {
            let found: ChunkSeries? = head.stripes.withLock(head.stripe(of: ref)) { s in
                guard let series = s.byRef[ref]?.takeUnretainedValue() else { return nil }
                let chunks = series.chunks(mint: mint, maxt: maxt)
                return chunks.isEmpty ? nil : ChunkSeries(labels: series.labels, chunks: chunks, mint: mint, maxt: maxt,
                                                          deleted: series.deleted)
            }
            if let found { out.append(found) }
        }
        out.sort { Labels.compare($0.labels, $1.labels) < 0 }
        return out
    }

    public func labelNames(_ matchers: [LabelMatcher]) -> [String] {
        if matchers.isEmpty { return head.postings.labelNames() }
        var names = Set<String>()
        for ref in head.postings.postings(for: matchers) {
            head.labels(of: ref)?.forEach { names.insert($0.name) }
        }
        return names.sorted()
    }

    public func labelValues(_ name: String, _ matchers: [LabelMatcher]) -> [String] {
        if matchers.isEmpty { return head.postings.labelValues(name: name).sorted() }
        var values = Set<String>()
        for ref in head.postings.postings(for: matchers) {
            if let v = head.labels(of: ref)?[name] { values.insert(v) }
        }
        return values.sorted()
    }
}
