import TSDB

/// Runs queries off the server's event loops and the cooperative pool, at most `limit` at a
/// time (`--query.max-concurrency`); others wait their turn, but never past their deadline:
/// the time a query waits for a slot counts against its timeout, as in Prometheus.
///
/// Queries run on the limiter's own worker threads, started once with a lower scheduling
/// priority (`WorkerThreads.niceness`), and fan out to `Parallel`'s, niced the same: when
/// every slot is busy with expensive queries, the event loops and the task executor that
/// answer `/-/healthy`, `/-/ready` and `/metrics` still get the CPU first.
actor QueryLimiter {
    let limit: Int
    private var running = 0
    /// Queued queries in arrival order; each is resumed with `true` when handed a slot, or
    /// `false` when its deadline passes first.
    private var waiting: [(id: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
    private var nextID: UInt64 = 0
    private let threads: WorkerThreads

    init(limit: Int, niceness: Int32 = WorkerThreads.niceness) {
        self.limit = max(limit, 1)
        threads = WorkerThreads(count: self.limit, name: "sextant-query", niceness: niceness)
    }

    deinit { threads.stop() }

    private func acquire(until deadline: ContinuousClock.Instant) async -> Bool {
        if running < limit {
            running += 1
            return true
        }
        let id = nextID
        nextID += 1
        // The timer reaches the actor only after the continuation below is queued.
        let timer = Task { [weak self] in
            try? await Task.sleep(until: deadline, clock: .continuous)
            await self?.expire(id)
        }
        let acquired = await withCheckedContinuation { waiting.append((id, $0)) }
        timer.cancel()
        return acquired
    }

    private func expire(_ id: UInt64) {
        guard let i = waiting.firstIndex(where: { $0.id == id }) else { return }
        waiting.remove(at: i).continuation.resume(returning: false)
    }

    /// Hands the slot to the first waiter, or frees it.
    private func release() {
        if waiting.isEmpty { running -= 1 } else { waiting.removeFirst().continuation.resume(returning: true) }
    }

    /// Runs `work` on a query thread once a slot is free; nil when `deadline` passes first.
    func run<T: Sendable>(until deadline: ContinuousClock.Instant, _ work: @escaping @Sendable () -> T) async -> T? {
        guard await acquire(until: deadline) else { return nil }
        let result = await threads.run(work)
        release()
        return result
    }
}
