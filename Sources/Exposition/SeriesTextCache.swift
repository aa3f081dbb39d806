import Foundation
import Storage

/// Maps the raw series text of a sample line (`name{labels}` exactly as it arrived) to an
/// entry: the series' ref, or that metric relabeling drops it, and the scrape it was last seen
/// in (for staleness). A repeat series skips label parsing (Prometheus' scrape cache).
///
/// An open-addressing table keyed by a fast 64-bit hash of the bytes; keys are copied into
/// one byte arena (no object per key, so lookups neither allocate nor retain), and nothing
/// keeps the caller's buffers alive.
public struct SeriesTextCache: Sendable {
    public struct Entry: Sendable {
        public var ref: SeriesRef
        /// Metric relabeling drops the series: its samples are skipped.
        public var dropped: Bool
        /// Number of the last scrape that had the series.
        public var lastSeen: Int
        /// The head series itself, when the writer has one: appends skip the ref lookup.
        public var handle: SeriesHandle?
    }

    public private(set) var entries: [Entry] = []
    /// What keeps each entry's handle valid (see `SeriesHandle.owner`); never read on the
    /// lookup path, so lookups do no reference counting.
    private var owners: [SeriesOwner?] = []
    /// Every key's bytes, one after another; key `e` ends at `keyEnds[e]`.
    private var arena: [UInt8] = []
    private var keyEnds: [Int] = []
    /// Slots: entry index + 1 (0 is empty), and the key's hash to skip most byte compares.
    private var slots: [Int32]
    private var hashes: [UInt64]
    private var mask: Int
    /// Most entries kept; past it, new series are not cached.
    public let capacity: Int

    public init(capacity: Int = 1_000_000) {
        self.capacity = capacity
        slots = Array(repeating: 0, count: 1024)
        hashes = Array(repeating: 0, count: 1024)
        mask = 1023
    }

    public var count: Int { entries.count }

    /// A 64-bit hash, eight bytes at a time.
    @inline(__always)
    static func hash(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        bytes.withUnsafeBytes { raw in
            var i = 0
            while i + 8 <= raw.count {
                let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
                h ^= h >> 31
                i += 8
            }
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < raw.count {
                tail |= UInt64(raw[i]) << shift
                shift += 8
                i += 1
            }
            h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
            h ^= h >> 29
        }
        return h
    }

    /// Whether key `e` is exactly `text`.
    @inline(__always)
    func key(_ e: Int, equals text: ArraySlice<UInt8>) -> Bool {
        let start = e == 0 ? 0 : keyEnds[e - 1], end = keyEnds[e]
        guard end - start == text.count else { return false }
        if text.isEmpty { return true }
        return arena.withUnsafeBytes { a in
            text.withUnsafeBytes { t in
                guard let p = a.baseAddress, let q = t.baseAddress else { return false }
                return memcmp(p + start, q, t.count) == 0
            }
        }
    }

    /// The length of key `e` when `line` starts with it. (Mutating only so that a caller's
    /// closure reaches the cache in place: a non-mutating call through a captured variable
    /// copies the whole cache, once per line.)
    @inline(__always)
    public mutating func prefixLength(of e: Int, in line: UnsafeBufferPointer<UInt8>) -> Int? {
        guard e >= 0 && e < keyEnds.count else { return nil }
        let start = e == 0 ? 0 : keyEnds[e - 1], count = keyEnds[e] - start
        guard count <= line.count, let q = line.baseAddress else { return nil }
        return arena.withUnsafeBytes { a in
            guard let p = a.baseAddress else { return nil }
            return memcmp(p + start, q, count) == 0 ? count : nil
        }
    }

    /// The bytes of key `e`.
    public func key(_ e: Int) -> ArraySlice<UInt8> {
        arena[(e == 0 ? 0 : keyEnds[e - 1])..<keyEnds[e]]
    }

    /// The index of the entry for `text`, if cached.
    public func index(of text: ArraySlice<UInt8>) -> Int? {
        let h = Self.hash(text)
        var slot = Int(truncatingIfNeeded: h) & mask
        while slots[slot] != 0 {
            let e = Int(slots[slot]) - 1
            if hashes[slot] == h && key(e, equals: text) { return e }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// The index of the entry for `text`, trying entry `guess` first: a target lists its series
    /// in the same order every scrape, so the entry after the last one found is usually the
    /// next, and then the lookup is one byte compare with no hashing.
    @inline(__always)
    public func index(of text: ArraySlice<UInt8>, guess: Int) -> Int? {
        if guess >= 0 && guess < entries.count && key(guess, equals: text) { return guess }
        return index(of: text)
    }

    public func ref(for text: ArraySlice<UInt8>) -> SeriesRef? {
        index(of: text).flatMap { entries[$0].dropped ? nil : entries[$0].ref }
    }

    /// Adds an entry for `text` (when there is room and it is not cached yet); returns its index.
    @discardableResult
    public mutating func insert(_ text: ArraySlice<UInt8>, _ ref: SeriesRef, dropped: Bool = false, seen: Int = 0,
                                handle: SeriesHandle? = nil) -> Int? {
        if let i = index(of: text) { return i }
        guard entries.count < capacity else { return nil }
        if (entries.count + 1) * 2 > slots.count { grow() }
        let i = entries.count
        entries.append(Entry(ref: ref, dropped: dropped, lastSeen: seen, handle: handle))
        owners.append(handle?.owner)
        arena.append(contentsOf: text)
        keyEnds.append(arena.count)
        place(i, hash: Self.hash(text))
        return i
    }

    /// Starts loading entry `e`'s head series into the CPU cache, when there is one.
    @inline(__always)
    public func prefetch(_ e: Int) {
        if e < entries.count { entries[e].handle?.prefetch() }
    }

    public mutating func markSeen(_ index: Int, scrape: Int) { entries[index].lastSeen = scrape }

    /// Points an entry at another series (its old one left the head).
    public mutating func replace(_ index: Int, with handle: SeriesHandle) {
        entries[index].ref = handle.ref
        entries[index].handle = handle
        owners[index] = handle.owner
    }

    /// Keeps only the entries `keep` accepts, in their order (indexes change): a scrape loop
    /// drops the series its target no longer has, so churn does not grow the cache forever.
    public mutating func retain(where keep: (Entry) -> Bool) {
        var kept = SeriesTextCache(capacity: capacity)
        for i in entries.indices where keep(entries[i]) {
            let e = entries[i]
            kept.insert(key(i), e.ref, dropped: e.dropped, seen: e.lastSeen, handle: e.handle)
        }
        self = kept
    }

    private mutating func place(_ entry: Int, hash h: UInt64) {
        var slot = Int(truncatingIfNeeded: h) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(entry + 1)
        hashes[slot] = h
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = Array(repeating: 0, count: size)
        hashes = Array(repeating: 0, count: size)
        mask = size - 1
        for i in keyEnds.indices { place(i, hash: Self.hash(key(i))) }
    }
}
