/// Writes samples in a transaction.
///
/// Contract: every appender must end with `commit()` or `rollback()`. `append` checks a sample
/// and buffers it; nothing is visible to queries before `commit()`, and after it all buffered
/// samples are (all-or-nothing: a commit that throws made none visible). A sample older than
/// its series' newest sample, or at the same time with another value, is rejected with a
/// typed error and counted. An appender is used by one task at a time.
public protocol Appender: AnyObject {
    /// Appends a sample to the series with these labels, creating the series if needed, and
    /// returns its ref for faster appends later.
    @discardableResult
    func append(_ labels: Labels, _ t: Int64, _ v: Double) throws(AppendError) -> SeriesRef
    /// Appends a sample to the series with this ref.
    func append(_ ref: SeriesRef, _ t: Int64, _ v: Double) throws(AppendError)
    /// Appends a sample to the series with these labels, creating the series if needed, and
    /// returns a handle for the fastest appends later (see `SeriesHandle`).
    func appendReturningHandle(_ labels: Labels, _ t: Int64, _ v: Double) throws(AppendError) -> SeriesHandle
    /// Appends a sample through a handle; `.unknownSeriesRef` once the head dropped the series.
    func append(_ handle: SeriesHandle, _ t: Int64, _ v: Double) throws(AppendError)
    /// Makes every buffered sample visible at once.
    func commit() throws
    /// Drops every buffered sample.
    func rollback()
}

/// Something appenders come from (the DB, a head).
public protocol Appendable: Sendable {
    func makeAppender() -> any Appender
}

/// Something queriers come from (the DB, a head, a remote store).
public protocol Queryable: Sendable {
    func querier(mint: Int64, maxt: Int64) -> any Querier
}

/// Hints a querier may use to read less; it must return correct results without them.
public struct SelectHints: Sendable {
    /// Time range the caller will read (milliseconds, inclusive).
    public var start: Int64
    public var end: Int64
    /// Step of a range query, 0 for an instant query.
    public var step: Int64 = 0
    /// The PromQL function applied to the selection, if any.
    public var function: String?

    public init(start: Int64, end: Int64, step: Int64 = 0, function: String? = nil) {
        self.start = start
        self.end = end
        self.step = step
        self.function = function
    }
}

/// Reads series over a fixed time range [mint, maxt].
///
/// Contract: `select` returns the series that match every matcher and have at least one
/// sample in the range, sorted by labels (`Labels.compare`), each iterating only samples in the
/// range, in time order, once per timestamp. Label queries return sorted, unique strings.
public protocol Querier: Sendable {
    var mint: Int64 { get }
    var maxt: Int64 { get }
    func select(_ matchers: [LabelMatcher], hints: SelectHints?) -> any SeriesSet
    /// Label names of the series matching `matchers` (of all series when empty).
    func labelNames(_ matchers: [LabelMatcher]) -> [String]
    /// Values of label `name` among the series matching `matchers` (all series when empty).
    func labelValues(_ name: String, _ matchers: [LabelMatcher]) -> [String]
}

/// A cursor over selected series: `next()` moves to the next series, `at()` returns it;
/// after `next()` returns false, `error` tells whether the set ended early.
public protocol SeriesSet {
    mutating func next() -> Bool
    func at() -> any Series
    var error: (any Error)? { get }
}

/// A series: its labels and a fresh iterator over its samples each time one is asked for.
public protocol Series: Sendable {
    var labels: Labels { get }
    func makeIterator() -> any SeriesIterator
}

/// Iterates a series' samples in time order.
///
/// Contract: `next()` moves to the next sample; `seek(to:)` moves to the first sample at or
/// after a time and never moves backwards (it returns true at once if the current sample
/// qualifies); `at()` is valid only after `next()` or `seek(to:)` returned true. Iterators
/// allocate nothing per sample. `error` is set when iteration ended because data was damaged.
public protocol SeriesIterator {
    mutating func next() -> Bool
    mutating func seek(to t: Int64) -> Bool
    func at() -> (t: Int64, v: Double)
    var error: (any Error)? { get }
    /// Appends every remaining sample to the two arrays (one call instead of one per sample,
    /// which matters behind an existential). `cache` lets a reader of many series decode each
    /// shared timestamp column once; iterators may ignore it.
    mutating func drain(timestamps: inout [Int64], values: inout [Double], cache: TimestampColumnCache?)
}

extension SeriesIterator {
    public mutating func drain(timestamps: inout [Int64], values: inout [Double]) {
        drain(timestamps: &timestamps, values: &values, cache: nil)
    }

    public mutating func drain(timestamps: inout [Int64], values: inout [Double], cache: TimestampColumnCache?) {
        while next() {
            let (t, v) = at()
            timestamps.append(t)
            values.append(v)
        }
    }
}

/// A series set over an array, already sorted.
public struct ListSeriesSet: SeriesSet {
    let series: [any Series]
    var index = -1
    public let error: (any Error)?

    public init(_ series: [any Series], error: (any Error)? = nil) {
        self.series = series
        self.error = error
    }

    public mutating func next() -> Bool {
        index += 1
        return index < series.count
    }

    public func at() -> any Series { series[index] }
}

/// Timestamp columns already decoded, by the address of their bytes: the series of one scrape
/// share one column in a block (`TimestampEncoding.shared`), so a reader draining many of them
/// decodes it once. Used by one thread at a time; holds at most `limit` columns.
public final class TimestampColumnCache {
    package var columns: [UnsafeRawPointer: [Int64]] = [:]
    package let limit: Int

    public init(limit: Int = 4096) { self.limit = limit }

    package func store(_ key: UnsafeRawPointer, _ timestamps: ArraySlice<Int64>) {
        if columns.count >= limit { columns.removeAll(keepingCapacity: true) }
        columns[key] = Array(timestamps)
    }
}
