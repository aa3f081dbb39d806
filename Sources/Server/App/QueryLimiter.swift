import Dispatch

/// Runs queries off the server's event loops and the cooperative pool, at most `limit` at a
/// time (`--query.max-concurrency`); others wait their turn.
actor QueryLimiter {
    let limit: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private let queue = DispatchQueue(label: "sextant.query", attributes: .concurrent)

    init(limit: Int) { self.limit = max(limit, 1) }

    private func acquire() async {
        if running < limit {
            running += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty { running -= 1 } else { waiting.removeFirst().resume() }
    }

    /// Runs `work` on a query thread once a slot is free.
    func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await acquire()
        let result: T = await withCheckedContinuation { c in
            queue.async { c.resume(returning: work()) }
        }
        release()
        return result
    }
}
