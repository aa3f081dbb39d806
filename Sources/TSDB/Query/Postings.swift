import Storage

/// Set operations on postings: lists of series references sorted ascending, without
/// duplicates.
public enum Postings {
    /// Refs in both lists.
    public static func intersect(_ a: [SeriesRef], _ b: [SeriesRef]) -> [SeriesRef] {
        if a.isEmpty || b.isEmpty { return [] }
        let (small, large) = a.count <= b.count ? (a, b) : (b, a)
        var out: [SeriesRef] = []
        out.reserveCapacity(small.count)
        if large.count / max(small.count, 1) > 32 {
            // Galloping: binary-search each small ref in the rest of the large list.
            var lo = 0
            for r in small {
                lo = lowerBound(large, r, from: lo)
                if lo == large.count { break }
                if large[lo] == r { out.append(r) }
            }
            return out
        }
        var i = 0, j = 0
        while i < small.count && j < large.count {
            let x = small[i], y = large[j]
            if x == y { out.append(x); i += 1; j += 1 } else if x < y { i += 1 } else { j += 1 }
        }
        return out
    }

    /// Refs in every list; empty for no lists.
    public static func intersect(_ lists: [[SeriesRef]]) -> [SeriesRef] {
        guard var acc = lists.min(by: { $0.count < $1.count }) else { return [] }
        for l in lists where !acc.isEmpty { acc = intersect(acc, l) }
        return acc
    }

    /// Refs in either list.
    public static func union(_ a: [SeriesRef], _ b: [SeriesRef]) -> [SeriesRef] {
        if a.isEmpty { return b }
        if b.isEmpty { return a }
        var out: [SeriesRef] = []
        out.reserveCapacity(a.count + b.count)
        var i = 0, j = 0
        while i < a.count && j < b.count {
            let x = a[i], y = b[j]
            if x == y { out.append(x); i += 1; j += 1 } else if x < y { out.append(x); i += 1 } else { out.append(y); j += 1 }
        }
        out.append(contentsOf: a[i...])
        out.append(contentsOf: b[j...])
        return out
    }

    /// Refs in any list: pairwise merges, smallest lists first.
    public static func union(_ lists: [[SeriesRef]]) -> [SeriesRef] {
        var work = lists.filter { !$0.isEmpty }
        if work.count <= 1 { return work.first ?? [] }
        if work.count > 16 {
            var all = work.flatMap { $0 }
            all.sort()
            return dedupSorted(all)
        }
        while work.count > 1 {
            work.sort { $0.count > $1.count }
            let a = work.removeLast(), b = work.removeLast()
            work.append(union(a, b))
        }
        return work[0]
    }

    /// Refs in `a` and not in `b`.
    public static func subtract(_ a: [SeriesRef], _ b: [SeriesRef]) -> [SeriesRef] {
        if a.isEmpty || b.isEmpty { return a }
        var out: [SeriesRef] = []
        out.reserveCapacity(a.count)
        var j = 0
        for x in a {
            while j < b.count && b[j] < x { j += 1 }
            if j < b.count && b[j] == x { continue }
            out.append(x)
        }
        return out
    }

    static func lowerBound(_ a: [SeriesRef], _ x: SeriesRef, from: Int) -> Int {
        var lo = from, hi = a.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if a[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    static func dedupSorted(_ a: [SeriesRef]) -> [SeriesRef] {
        var out: [SeriesRef] = []
        out.reserveCapacity(a.count)
        for x in a where out.last != x { out.append(x) }
        return out
    }
}

/// What a postings index offers for matcher evaluation: the refs of one label pair, the
/// values of one label name, and every ref.
public protocol PostingsIndex {
    func postings(name: String, value: String) -> [SeriesRef]
    func labelValues(name: String) -> [String]
    func allPostings() -> [SeriesRef]
}

extension PostingsIndex {
    /// The refs of the series that satisfy every matcher, with Prometheus' empty-value rules:
    /// a matcher that matches the empty string also selects series without the label.
    public func postings(for matchers: [LabelMatcher]) -> [SeriesRef] {
        var include: [[SeriesRef]] = []
        var exclude: [[SeriesRef]] = []
        for m in matchers {
            if m.matchesEmpty {
                // Series without the label match; remove those whose value does not.
                let inv = m.inverse
                exclude.append(postings(name: m.name, matching: inv))
            } else {
                include.append(postings(name: m.name, matching: m))
            }
        }
        if include.isEmpty { include.append(allPostings()) }
        let base = Postings.intersect(include)
        return Postings.subtract(base, Postings.union(exclude))
    }

    /// The union of the postings of every value of `name` that `m` matches.
    func postings(name: String, matching m: LabelMatcher) -> [SeriesRef] {
        if m.type == .equal { return postings(name: name, value: m.value) }
        let values = labelValues(name: name).filter { m.matches($0) }
        return Postings.union(values.map { postings(name: name, value: $0) })
    }
}
