#if canImport(Glibc)
import Glibc
import Storage
#endif

/// Lets commits run side by side while compaction waits for the ones in flight: commits hold
/// it shared while they apply samples; compaction takes it exclusively for a moment after
/// raising the head's minimum valid time, so no commit that read the old value is still
/// writing into the range being cut. Writers are preferred, so commits cannot starve it.
/// Ownership: the rwlock is its own synchronization; the pointer is immutable.
final class CommitGate: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        lock = .allocate(capacity: 1)
        var attr = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attr)
        pthread_rwlockattr_setkind_np(&attr, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        pthread_rwlock_init(lock, &attr)
        pthread_rwlockattr_destroy(&attr)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    @inline(__always)
    func shared<R>(_ body: () throws -> R) rethrows -> R {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    /// Waits until every commit that started before this call has finished.
    func drain() {
        pthread_rwlock_wrlock(lock)
        pthread_rwlock_unlock(lock)
    }
}
