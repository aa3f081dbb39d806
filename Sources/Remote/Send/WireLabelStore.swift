/// The queue reader's encoded labels (`WireSeries` bytes) by series slot, all in one byte
/// array: the per-sample path copies a range of it into a batch without touching an object
/// per series (no retain or release per sample).
struct WireLabelStore: Sendable {
    private(set) var bytes: [UInt8] = []
    /// By slot: where its labels start in `bytes` and how long they are (-1: the series was
    /// dropped by write relabeling).
    private var starts: [Int] = []
    private var lengths: [Int] = []
    /// Bytes no slot points at any more (labels replaced or dropped).
    private var unused = 0

    var count: Int { starts.count }

    /// Sets `slot`'s labels (nil: dropped). `slot` is an existing slot or `count` (a new one).
    mutating func set(_ slot: Int, _ wire: WireSeries?) {
        let length = wire?.labels.count ?? -1
        if slot == starts.count {
            starts.append(bytes.count)
            lengths.append(length)
            if let wire { bytes.append(contentsOf: wire.labels) }
            return
        }
        let old = max(lengths[slot], 0)
        if let wire, wire.labels.count <= old {
            bytes.replaceSubrange(starts[slot]..<(starts[slot] + wire.labels.count), with: wire.labels)
            unused += old - wire.labels.count
        } else if let wire {
            starts[slot] = bytes.count
            bytes.append(contentsOf: wire.labels)
            unused += old
        } else {
            unused += old
        }
        lengths[slot] = length
        if unused > 1 << 20 && unused > bytes.count / 2 { compact() }
    }

    /// `slot`'s labels within `bytes`, nil when the series was dropped.
    @inline(__always)
    func range(_ slot: Int) -> Range<Int>? {
        let length = lengths[slot]
        return length < 0 ? nil : starts[slot]..<(starts[slot] + length)
    }

    private mutating func compact() {
        var packed: [UInt8] = []
        packed.reserveCapacity(bytes.count - unused)
        for slot in starts.indices {
            guard let r = range(slot) else { continue }
            starts[slot] = packed.count
            packed.append(contentsOf: bytes[r])
        }
        bytes = packed
        unused = 0
    }
}
