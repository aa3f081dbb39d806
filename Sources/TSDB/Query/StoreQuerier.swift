import Storage

/// A querier over a store's head and blocks that answers from one consistent view of them.
///
/// The store changes under a query in one way that can hide data: compaction writes a block,
/// adds it to the list, then truncates the head. A query that took the block list before the
/// new block was added and reads the head after its truncation began would see that range in
/// neither. `Head.truncations` counts truncations as they begin; a view whose count moved
/// while it was read is read again (the head and block list are then both newer). Merges and
/// retention replace blocks in the list atomically and delete them only when released, so
/// they need no retry.
struct StoreQuerier: Querier {
    let head: Head
    /// The current block list (oldest first), taken anew for each view.
    let blocks: @Sendable () -> [Block]
    let mint: Int64
    let maxt: Int64

    /// Runs `read` on a merge of the head and the blocks it can see, until no truncation began
    /// during the read.
    func consistent<R>(_ read: (StoreMerge) -> R) -> R {
        while true {
            let seen = head.truncations.load(ordering: .sequentiallyConsistent)
            let result = read(Self.merge(head: head, blocks: blocks(), mint: mint, maxt: maxt))
            if head.truncations.load(ordering: .sequentiallyConsistent) == seen { return result }
        }
    }

    /// The head and the blocks overlapping [mint, maxt] merged.
    static func merge(head: Head, blocks: [Block], mint: Int64, maxt: Int64) -> StoreMerge {
        let overlapping = blocks.filter { $0.meta.maxTime > mint && $0.meta.minTime <= maxt }
        return StoreMerge(head: head.headQuerier(mint: mint, maxt: maxt),
                            blocks: overlapping.map { $0.querier(mint: mint, maxt: maxt) }, mint: mint, maxt: maxt)
    }

    func select(_ matchers: [LabelMatcher], hints: SelectHints?) -> any SeriesSet {
        consistent { $0.select(matchers, hints: hints) }
    }

    func labelNames(_ matchers: [LabelMatcher]) -> [String] {
        consistent { $0.labelNames(matchers) }
    }

    func labelValues(_ name: String, _ matchers: [LabelMatcher]) -> [String] {
        consistent { $0.labelValues(name, matchers) }
    }
}
