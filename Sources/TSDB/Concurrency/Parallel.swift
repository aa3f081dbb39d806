import Dispatch

/// The one fan-out of the storage and query paths: runs `body(k)` for `k` in `0..<count` on
/// all cores and returns the results in index order.
///
/// Ownership: each call of `body` writes only its own result slot, which no other call reads;
/// the slots are read by the caller only after every call has returned (concurrentPerform
/// returns after all iterations, which orders their writes before the caller's reads). What
/// `body` reads besides its index must be immutable for the duration of the call or guarded
/// by its own lock; that is the caller's promise, which the non-escaping `body` keeps local.
public enum Parallel {
    /// Results of `body` for each index, in order; with `count` of 0 or 1 it runs inline.
    public static func map<T>(_ count: Int, _ body: (Int) -> T) -> [T] {
        guard count > 1 else { return count == 1 ? [body(0)] : [] }
        let slots = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
        slots.initialize(repeating: nil)
        defer { slots.deinitialize().deallocate() }
        withoutActuallyEscaping(body) { body in
            let work = SlotWriter(slots: slots, body: body)
            DispatchQueue.concurrentPerform(iterations: count) { work.run($0) }
        }
        var out: [T] = []
        out.reserveCapacity(count)
        for case let value? in slots { out.append(value) }
        return out
    }

    /// Runs `body` for each index, on all cores.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        _ = map(count) { body($0) }
    }
}

/// Hands each worker its own slot of the results (see `Parallel` for why this is safe).
private struct SlotWriter<T>: @unchecked Sendable {
    let slots: UnsafeMutableBufferPointer<T?>
    let body: (Int) -> T

    func run(_ k: Int) { slots[k] = body(k) }
}
