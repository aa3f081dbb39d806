import CHints

/// A direct reference to one series, issued by an `Appender` for a writer that appends to the
/// same series again and again (a scrape loop's cache): appending through it skips the lookup
/// by ref. Opaque to everyone but the store that issued it.
///
/// The handle itself is a plain value and does not keep the series alive: whoever stores it
/// also stores its `owner` for as long as it keeps the handle. Once the store has dropped the
/// series (a TSDB head drops series that held no samples at a truncation), appending through
/// the handle fails with `AppendError.unknownSeriesRef`; the writer then appends by labels
/// again and keeps the new handle. A handle given to a store that did not issue it is appended
/// by its ref.
public struct SeriesHandle: @unchecked Sendable {
    public let ref: SeriesRef
    /// The issuing store's series object (TSDB: its `MemSeries`), unretained; nil for stores
    /// without handles.
    public let object: Unmanaged<AnyObject>?
    /// The store that issued the handle.
    public let issuer: ObjectIdentifier?

    public init(ref: SeriesRef, object: Unmanaged<AnyObject>? = nil, issuer: ObjectIdentifier? = nil) {
        self.ref = ref
        self.object = object
        self.issuer = issuer
    }

    /// Starts loading the series into the CPU cache ahead of an append through the handle
    /// (only a hint: it reads nothing, so it is safe even after the series left the store).
    @inlinable @inline(__always)
    public func prefetch() {
        guard let object else { return }
        let p = UnsafeRawPointer(object.toOpaque())
        sextant_prefetch(p)
        sextant_prefetch(p + 64)
        sextant_prefetch(p + 128)
    }

    /// What keeps the handle's memory valid while it is held (nil: nothing to keep).
    public var owner: SeriesOwner? { object.map { SeriesOwner($0.takeUnretainedValue()) } }
}

/// The object behind a `SeriesHandle`, held by whoever keeps the handle. Only ever released,
/// never used, by the holder.
public struct SeriesOwner: @unchecked Sendable {
    let object: AnyObject

    public init(_ object: AnyObject) { self.object = object }
}

extension Appender {
    /// For stores without handles: the series' ref in a handle.
    public func appendReturningHandle(_ labels: Labels, _ t: Int64, _ v: Double) throws(AppendError) -> SeriesHandle {
        SeriesHandle(ref: try append(labels, t, v))
    }

    /// For stores without handles: appends by the handle's ref.
    public func append(_ handle: SeriesHandle, _ t: Int64, _ v: Double) throws(AppendError) {
        try append(handle.ref, t, v)
    }
}
