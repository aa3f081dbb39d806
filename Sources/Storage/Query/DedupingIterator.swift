/// Merges iterators of one series into one in time order; at equal timestamps the sample of
/// the first iterator (in the order given) wins and the others are skipped.
///
/// Generic so that a store merging its own iterators (the TSDB's chunk iterators) gets a
/// specialized loop with no existential per sample; `AnySeriesIterator` serves the rest.
public struct DedupingIterator<Base: SeriesIterator>: SeriesIterator {
    @usableFromInline var iterators: [Base]
    @usableFromInline var live: [Bool]
    @usableFromInline var current: (t: Int64, v: Double) = (0, 0)
    @usableFromInline var started = false
    @usableFromInline var firstError: (any Error)?
    public var error: (any Error)? { firstError }

    @inlinable
    public init(_ iterators: [Base]) {
        self.iterators = iterators
        live = Array(repeating: false, count: iterators.count)
    }

    @inlinable
    public mutating func next() -> Bool {
        if !started {
            started = true
            for k in iterators.indices { live[k] = iterators[k].next(); noteError(k) }
        } else {
            // Move every iterator that sits on the sample just returned.
            for k in iterators.indices where live[k] && iterators[k].at().t == current.t {
                live[k] = iterators[k].next()
                noteError(k)
            }
        }
        return pick()
    }

    @inlinable
    public mutating func seek(to t: Int64) -> Bool {
        if started && current.t >= t && live.contains(true) { return true }
        started = true
        for k in iterators.indices {
            live[k] = iterators[k].seek(to: t)
            noteError(k)
        }
        return pick()
    }

    @inlinable
    public func at() -> (t: Int64, v: Double) { current }

    @inlinable
    mutating func pick() -> Bool {
        var best = -1
        for k in iterators.indices where live[k] {
            if best < 0 || iterators[k].at().t < iterators[best].at().t { best = k }
        }
        guard best >= 0 else { return false }
        current = iterators[best].at()
        return true
    }

    @inlinable
    mutating func noteError(_ k: Int) {
        if firstError == nil, let e = iterators[k].error { firstError = e }
    }
}

/// Any series iterator as a concrete type, for the generic code above.
public struct AnySeriesIterator: SeriesIterator {
    @usableFromInline var base: any SeriesIterator

    public init(_ base: any SeriesIterator) { self.base = base }

    @inlinable public mutating func next() -> Bool { base.next() }
    @inlinable public mutating func seek(to t: Int64) -> Bool { base.seek(to: t) }
    @inlinable public func at() -> (t: Int64, v: Double) { base.at() }
    public var error: (any Error)? { base.error }

    public mutating func drain(timestamps: inout [Int64], values: inout [Double], cache: TimestampColumnCache?) {
        base.drain(timestamps: &timestamps, values: &values, cache: cache)
    }
}
