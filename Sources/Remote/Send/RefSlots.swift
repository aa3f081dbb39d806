import Storage

/// Series ref → slot number, for the queue reader's per-sample lookup: open addressing with
/// linear probing over a power-of-two table, the ref mixed by one multiplication (Fibonacci
/// hashing). Profiled at 200k samples/s, `Dictionary<SeriesRef, Int32>` (SipHash per lookup)
/// took 9 % of the process's CPU, most of it the cache miss of a random probe.
///
/// Slots are numbered in the order series records arrive, which is the order a scrape
/// created its series, and a scrape's samples come in that order again and again: so the
/// next sample's slot is usually the previous one's plus one. `slot(of:after:)` checks that
/// guess in a sequentially read array before probing the table.
struct RefSlots: Sendable {
    /// By slot: its ref.
    private var bySlot: [SeriesRef] = []
    private var refs: [UInt64]
    /// The slot stored under `refs[i]`, or -1 where the bucket is empty.
    private var slots: [Int32]
    private var shift: UInt64
    private(set) var count = 0

    init() {
        refs = Array(repeating: 0, count: 1024)
        slots = Array(repeating: -1, count: 1024)
        shift = 64 - 10
    }

    @inline(__always)
    private func bucket(_ ref: SeriesRef) -> Int {
        Int(truncatingIfNeeded: (ref &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The slot of `ref`, if it has one.
    @inline(__always)
    subscript(ref: SeriesRef) -> Int32? {
        let mask = slots.count - 1
        var i = bucket(ref)
        while true {
            let s = slots[i]
            if s < 0 { return nil }
            if refs[i] == ref { return s }
            i = (i + 1) & mask
        }
    }

    /// The slot of `ref`, trying `previous + 1` first (`previous`: the slot of the sample
    /// before, or -1).
    @inline(__always)
    func slot(of ref: SeriesRef, after previous: Int) -> Int? {
        let guess = previous &+ 1
        if guess >= 0 && guess < bySlot.count && bySlot[guess] == ref { return guess }
        return self[ref].map(Int.init)
    }

    /// Adds `ref` under the next slot number (`count`), or returns its existing slot.
    mutating func add(_ ref: SeriesRef) -> Int32 {
        if let existing = self[ref] { return existing }
        let slot = Int32(truncatingIfNeeded: bySlot.count)
        bySlot.append(ref)
        set(ref, slot)
        return slot
    }

    private mutating func set(_ ref: SeriesRef, _ slot: Int32) {
        if (count + 1) * 2 > slots.count { grow() }
        let mask = slots.count - 1
        var i = bucket(ref)
        while slots[i] >= 0 && refs[i] != ref { i = (i + 1) & mask }
        if slots[i] < 0 { count += 1 }
        refs[i] = ref
        slots[i] = slot
    }

    private mutating func grow() {
        let oldRefs = refs, oldSlots = slots
        refs = Array(repeating: 0, count: oldSlots.count * 2)
        slots = Array(repeating: -1, count: oldSlots.count * 2)
        shift -= 1
        count = 0
        for (ref, slot) in zip(oldRefs, oldSlots) where slot >= 0 { set(ref, slot) }
    }
}
