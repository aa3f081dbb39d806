/// A querier over several stores for the same range: a local store and a remote one, or any
/// `Querier`s. Series with equal labels are joined; at equal timestamps the earlier querier's
/// sample wins. Errors of any source end the merged set's iteration report (the first one).
///
/// Queriers are selected from at once, on the shared worker threads: the `Querier` contract
/// lets `select` run on different queriers concurrently (each is an immutable value reading
/// its own store).
public struct MergeQuerier: Querier {
    public let queriers: [any Querier]
    public let mint: Int64
    public let maxt: Int64

    public init(_ queriers: [any Querier], mint: Int64, maxt: Int64) {
        self.queriers = queriers
        self.mint = mint
        self.maxt = maxt
    }

    public func select(_ matchers: [LabelMatcher], hints: SelectHints?) -> any SeriesSet {
        if queriers.count == 1 { return queriers[0].select(matchers, hints: hints) }
        let found = Parallel.map(queriers.count) { k in Self.collect(queriers[k].select(matchers, hints: hints)) }
        let merged = SeriesMerge.merge(found.map(\.series), labels: \.labels, single: { $0 },
                                       join: { ChainedSeries(labels: $0[0].labels, parts: $0) })
        return ListSeriesSet(merged, error: found.lazy.compactMap(\.error).first)
    }

    /// The whole of a series set, and its error.
    static func collect(_ set: any SeriesSet) -> (series: [any Series], error: (any Error)?) {
        var set = set
        var out: [any Series] = []
        while set.next() { out.append(set.at()) }
        return (out, set.error)
    }

    public func labelNames(_ matchers: [LabelMatcher]) -> [String] {
        SeriesMerge.union(queriers.map { $0.labelNames(matchers) })
    }

    public func labelValues(_ name: String, _ matchers: [LabelMatcher]) -> [String] {
        SeriesMerge.union(queriers.map { $0.labelValues(name, matchers) })
    }
}

/// One series read from several sources: its samples in time order, each timestamp once (the
/// first source's sample).
public struct ChainedSeries: Series {
    public let labels: Labels
    public let parts: [any Series]

    public init(labels: Labels, parts: [any Series]) {
        self.labels = labels
        self.parts = parts
    }

    public func makeIterator() -> any SeriesIterator {
        DedupingIterator(parts.map { AnySeriesIterator($0.makeIterator()) })
    }
}
