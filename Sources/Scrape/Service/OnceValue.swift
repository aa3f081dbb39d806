import Synchronization

/// A value set once and awaited by any number of tasks: the port a server bound, a service
/// that finished. Waiters before `set` suspend; after it they return at once; a waiting task
/// that is cancelled returns nil.
public final class OnceValue<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiters: [Int: CheckedContinuation<Value?, Never>] = [:]
        var nextWaiter = 0
    }
    private let state = Mutex(State())

    public init() {}

    /// Sets the value (the first call wins) and wakes every waiter.
    public func set(_ value: Value) {
        let waiters = state.withLock { s -> [CheckedContinuation<Value?, Never>] in
            guard s.value == nil else { return [] }
            s.value = value
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for w in waiters { w.resume(returning: value) }
    }

    /// The value once set; nil if the waiting task is cancelled first.
    public var value: Value? {
        get async {
            let id = state.withLock { s in
                s.nextWaiter += 1
                return s.nextWaiter
            }
            return await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Value?, Never>) in
                    let cancelled = Task.isCancelled
                    let now = state.withLock { s -> Value?? in
                        if let v = s.value { return .some(v) }
                        if cancelled { return .some(nil) }
                        s.waiters[id] = c
                        return nil
                    }
                    if let now { c.resume(returning: now) }
                }
            } onCancel: {
                let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
                waiter?.resume(returning: nil)
            }
        }
    }

    /// The value if it is set.
    public var current: Value? { state.withLock { $0.value } }
}
