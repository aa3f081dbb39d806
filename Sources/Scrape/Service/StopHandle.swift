import Synchronization

/// Ends one child of a task group from outside, which `cancelAll` cannot: the child runs its
/// work through `run`, in a group of its own, and `stop()` cancels that work alone. Stopping
/// before the work started makes `run` return at once.
final class StopHandle: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Void, Never>)
        case stopped
    }
    private let state = Mutex(State.idle)

    /// Runs `work` until it returns, `stop()` is called, or the calling task is cancelled;
    /// in the last two cases `work` is cancelled and awaited.
    func run(_ work: @escaping @Sendable () async -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await work() }
            group.addTask { await self.stopped() }
            await group.next()
            group.cancelAll()
            await group.waitForAll()
        }
    }

    func stop() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            defer { s = .stopped }
            if case .waiting(let c) = s { return c }
            return nil
        }
        waiter?.resume()
    }

    /// Returns once `stop()` was called, or the task is cancelled.
    private func stopped() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                // Cancelled already (the handler below may have run before this): no wait.
                let cancelled = Task.isCancelled
                let resumeNow = state.withLock { s -> Bool in
                    switch s {
                    case .idle where !cancelled:
                        s = .waiting(c)
                        return false
                    case .idle, .waiting, .stopped:
                        return true
                    }
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            // Only this waiter's own cancellation: resume it without marking the handle stopped.
            let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                guard case .waiting(let c) = s else { return nil }
                s = .idle
                return c
            }
            waiter?.resume()
        }
    }
}
