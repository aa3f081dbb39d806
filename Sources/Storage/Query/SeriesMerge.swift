/// The merge every multi-source querier does: lists of series, each sorted by labels, joined
/// into one list sorted by labels, the parts of one series (equal labels) handed over together
/// in list order.
public enum SeriesMerge {
    /// A k-way merge of `lists` by `Labels.compare`. A series found in one list becomes
    /// `single(part)`; one found in several becomes `join(parts)`, the parts in list order
    /// (the order that gives precedence at equal timestamps).
    @inlinable
    public static func merge<Part>(_ lists: [[Part]], labels: (Part) -> Labels, single: (Part) -> any Series,
                                   join: ([Part]) -> any Series) -> [any Series] {
        let lists = lists.filter { !$0.isEmpty }
        if lists.count == 1 { return lists[0].map(single) }
        var cursors = [Int](repeating: 0, count: lists.count)
        var out: [any Series] = []
        out.reserveCapacity(lists.map(\.count).max() ?? 0)
        var parts: [Part] = []
        while true {
            var smallest = -1
            for k in lists.indices where cursors[k] < lists[k].count {
                if smallest < 0 || Labels.compare(labels(lists[k][cursors[k]]), labels(lists[smallest][cursors[smallest]])) < 0 {
                    smallest = k
                }
            }
            guard smallest >= 0 else { break }
            let first = labels(lists[smallest][cursors[smallest]])
            parts.removeAll(keepingCapacity: true)
            for k in lists.indices where cursors[k] < lists[k].count && labels(lists[k][cursors[k]]) == first {
                parts.append(lists[k][cursors[k]])
                cursors[k] += 1
            }
            out.append(parts.count == 1 ? single(parts[0]) : join(parts))
        }
        return out
    }

    /// The sorted union of label names or values from several sources.
    public static func union(_ lists: [[String]]) -> [String] {
        var all = Set<String>()
        for l in lists { all.formUnion(l) }
        return all.sorted()
    }
}
