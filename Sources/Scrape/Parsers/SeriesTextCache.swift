import TSDB

/// Maps the raw series text of a sample line (`name{labels}` exactly as it arrived) to the
/// series' ref, so a series seen before skips label parsing (Prometheus' scrape cache). Keys
/// are copied in, so nothing keeps the caller's buffers alive; lookups allocate nothing.
public struct SeriesTextCache: Sendable {
    private var buckets: [Int: [(key: [UInt8], ref: SeriesRef)]] = [:]
    public private(set) var count = 0
    /// Most entries kept; past it, new series are not cached.
    public let capacity: Int

    public init(capacity: Int = 1_000_000) {
        self.capacity = capacity
    }

    static func hash(_ bytes: ArraySlice<UInt8>) -> Int {
        var h = Hasher()
        bytes.withUnsafeBytes { h.combine(bytes: $0) }
        return h.finalize()
    }

    public func ref(for text: ArraySlice<UInt8>) -> SeriesRef? {
        guard let list = buckets[Self.hash(text)] else { return nil }
        for entry in list where entry.key.elementsEqual(text) { return entry.ref }
        return nil
    }

    public mutating func insert(_ text: ArraySlice<UInt8>, _ ref: SeriesRef) {
        guard count < capacity, self.ref(for: text) == nil else { return }
        buckets[Self.hash(text), default: []].append((Array(text), ref))
        count += 1
    }
}
