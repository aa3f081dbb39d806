import Synchronization
#if SEXTANT_TSAN
#if canImport(Glibc)
import Glibc
#endif
#endif

/// A value owned by a lock: the value is reached only inside `withLock`, so the lock is the
/// value's one owner (swift-nio's `NIOLockedValueBox`, shaped like `Synchronization.Mutex`).
///
/// Normally a `Mutex`. ThreadSanitizer cannot see that lock (it is taken inside the standard
/// library, which is not instrumented) and would report every section it guards as a race,
/// so builds for ThreadSanitizer (`-DSEXTANT_TSAN`, which `Scripts/test.sh` passes) take a
/// pthread mutex around exactly the same sections instead, which it sees.
public struct Locked<Value>: ~Copyable {
    #if SEXTANT_TSAN
    @usableFromInline let box: PthreadLockedBox<Value>
    #else
    @usableFromInline let mutex: Mutex<Value>
    #endif

    public init(_ value: sending Value) {
        #if SEXTANT_TSAN
        box = PthreadLockedBox(value)
        #else
        mutex = Mutex(value)
        #endif
    }

    /// Runs `body` with the value while holding the lock.
    @inlinable @inline(__always)
    public borrowing func withLock<R, E: Error>(_ body: (inout sending Value) throws(E) -> sending R) throws(E) -> sending R {
        #if SEXTANT_TSAN
        return try box.withLock(body)
        #else
        return try mutex.withLock(body)
        #endif
    }
}

extension Locked: @unchecked Sendable {}

#if SEXTANT_TSAN
/// The ThreadSanitizer build's lock: a pthread mutex and the value it guards.
@usableFromInline
final class PthreadLockedBox<Value>: @unchecked Sendable {
    @usableFromInline var value: Value
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inlinable
    func withLock<R, E: Error>(_ body: (inout sending Value) throws(E) -> sending R) throws(E) -> sending R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
#endif
