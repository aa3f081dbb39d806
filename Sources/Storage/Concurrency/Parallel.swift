import Foundation
import Synchronization

/// The one fan-out of the storage and query paths: runs `body(k)` for `k` in `0..<count` on
/// all cores and returns the results in index order. The calling thread takes indexes too,
/// helped by `WorkerThreads.shared`; a call from inside `body` fans out the same way, and
/// never waits for a helper that has not started, so nesting cannot deadlock.
///
/// Ownership: each call of `body` writes only its own result slot, which no other call reads;
/// the caller reads the slots only after every index has completed (the completion count is
/// taken under the job's lock, which orders the slot writes before the caller's reads). What
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
            let job = ParallelJob(count: count, slots: slots, body: body)
            let pool = WorkerThreads.shared
            for _ in 0..<min(count - 1, pool.count) { pool.submit { job.work() } }
            job.work()
            job.waitUntilDone()
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

/// One fan-out: indexes claimed one at a time from an atomic counter by the caller and by
/// whichever helpers get to it. A helper that arrives after the last index was claimed finds
/// nothing to do and never touches `body`, which the caller drops before `body` stops being
/// valid (see `Parallel` for why the slots are safe).
private final class ParallelJob<T>: @unchecked Sendable {
    let count: Int
    let slots: UnsafeMutableBufferPointer<T?>
    private var body: ((Int) -> T)?
    private let claimed = Atomic<Int>(0)
    private let done = NSCondition()
    private var completed = 0

    init(count: Int, slots: UnsafeMutableBufferPointer<T?>, body: @escaping (Int) -> T) {
        self.count = count
        self.slots = slots
        self.body = body
    }

    /// Claims and runs indexes until none is left.
    func work() {
        while true {
            let k = claimed.wrappingAdd(1, ordering: .relaxed).oldValue
            guard k < count else { return }
            run(k)
            done.lock()
            completed += 1
            if completed == count { done.broadcast() }
            done.unlock()
        }
    }

    /// Runs index `k` (claimed, so `body` is set). Its own function so that the reference to
    /// `body` it takes is released before the completion is counted: once the caller sees
    /// every index complete, nothing but the job holds `body`.
    @inline(never)
    private func run(_ k: Int) {
        guard let body else { return }
        slots[k] = body(k)
    }

    /// Waits for every index to complete, then lets go of `body`.
    func waitUntilDone() {
        done.lock()
        while completed < count { done.wait() }
        done.unlock()
        body = nil
    }
}
