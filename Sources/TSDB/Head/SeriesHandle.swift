import CHints

/// A direct reference to a head series, for a writer that appends to the same series again
/// and again (a scrape loop's cache): appending through it skips the lookup by ref.
///
/// The handle itself is a plain value and does not keep the series alive: whoever stores it
/// also stores its `owner` for as long as it keeps the handle. Once the head has dropped the
/// series (it held no samples at a truncation), appending through the handle fails with
/// `AppendError.unknownSeriesRef`; the writer then appends by labels again and keeps the new
/// handle.
public struct SeriesHandle: @unchecked Sendable {
    public let ref: SeriesRef
    @usableFromInline let series: Unmanaged<MemSeries>

    init(_ series: MemSeries) {
        ref = series.ref
        self.series = .passUnretained(series)
    }

    /// Starts loading the series into the CPU cache ahead of an append through the handle
    /// (only a hint: it reads nothing, so it is safe even after the series left the head).
    @inlinable @inline(__always)
    public func prefetch() {
        let p = UnsafeRawPointer(series.toOpaque())
        sextant_prefetch(p)
        sextant_prefetch(p + 64)
        sextant_prefetch(p + 128)
    }

    /// The object that keeps the handle's memory valid while it is held.
    public var owner: any AnyObject & Sendable { series.takeUnretainedValue() }
}
