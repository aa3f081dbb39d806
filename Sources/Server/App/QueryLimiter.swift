import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs queries off the server's event loops and the cooperative pool, at most `limit` at a
/// time (`--query.max-concurrency`); others wait their turn.
///
/// Queries run on the limiter's own threads, started once with a lower scheduling priority
/// (nice 10): when every slot is busy with expensive queries, the event loops that answer
/// `/-/healthy`, `/-/ready` and `/metrics` still get the CPU first.
actor QueryLimiter {
    let limit: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private let threads: QueryThreads

    init(limit: Int) {
        self.limit = max(limit, 1)
        threads = QueryThreads(count: self.limit)
    }

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
            threads.submit { c.resume(returning: work()) }
        }
        release()
        return result
    }
}

/// A fixed set of threads, niced once at start, that run submitted jobs in order.
///
/// Ownership: the job queue is guarded by `condition`; each thread takes one job at a time.
/// The threads live as long as the process (the limiter lives as long as the server).
final class QueryThreads: @unchecked Sendable {
    /// The nice value of query threads: above the event loops' 0, so health checks win.
    static let niceness: Int32 = 10

    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0

    init(count: Int) {
        for i in 0..<count {
            let thread = Thread { [unowned self] in
                QueryThreads.lowerPriority()
                self.serve()
            }
            thread.name = "sextant-query-\(i)"
            thread.start()
        }
    }

    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func next() -> @Sendable () -> Void {
        condition.lock()
        defer { condition.unlock() }
        while head == jobs.count { condition.wait() }
        let job = jobs[head]
        head += 1
        if head == jobs.count {
            jobs.removeAll(keepingCapacity: true)
            head = 0
        }
        return job
    }

    private func serve() -> Never {
        while true { next()() }
    }

    /// On Linux the nice value belongs to the calling thread (`who` 0 of PRIO_PROCESS).
    private static func lowerPriority() {
        #if canImport(Glibc)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
        #endif
    }
}
