import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A fixed set of threads, niced once at start, that run submitted jobs in arrival order:
/// where queries and their fan-out run, below the event loops and Swift's task executor.
///
/// Why not Dispatch: on Linux, Swift's global task executor and `concurrentPerform` share
/// libdispatch's worker threads, one per core, so a query fanned out over every core there
/// leaves no thread for the tasks that answer `/-/healthy` until a chunk of it is done.
///
/// Ownership: the job queue and `stopped` are guarded by `condition`; a thread runs one job at
/// a time. The threads end after `stop()` once the queue is empty; until then they keep the
/// pool alive, so an owner that goes away stops its pool (see `QueryLimiter`, `SextantServer`).
public final class WorkerThreads: @unchecked Sendable {
    /// The nice value of worker threads: above the event loops' and the executor's 0, so
    /// request handling gets the CPU first when every core is busy with queries.
    public static let niceness: Int32 = 10

    /// Parallel's helpers: one per core.
    public static let shared = WorkerThreads(count: ProcessInfo.processInfo.activeProcessorCount, name: "sextant-worker")

    public let count: Int
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var stopped = false

    /// `niceness` is the threads' nice value (default `WorkerThreads.niceness`; 0 keeps them at
    /// the process's priority).
    public init(count: Int, name: String, niceness: Int32 = WorkerThreads.niceness) {
        self.count = max(count, 1)
        for i in 0..<self.count {
            // Each thread holds the pool until it ends: `stop()` followed at once by the
            // pool's release (its owner's deinit) must not leave a waking thread reading
            // freed state.
            let thread = Thread { [self] in
                Thread.current.name = "\(name)-\(i)"
                if niceness > 0 { WorkerThreads.lowerPriority(to: niceness) }
                self.serve()
            }
            thread.start()
        }
    }

    /// Queues `job` for the next free thread.
    public func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Runs `work` on a worker thread and returns its result.
    public func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { c in submit { c.resume(returning: work()) } }
    }

    /// Lets every thread end once the queue is empty.
    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func next() -> (@Sendable () -> Void)? {
        condition.lock()
        defer { condition.unlock() }
        while head == jobs.count {
            if stopped { return nil }
            condition.wait()
        }
        let job = jobs[head]
        head += 1
        if head == jobs.count {
            jobs.removeAll(keepingCapacity: true)
            head = 0
        }
        return job
    }

    private func serve() {
        while let job = next() { job() }
    }

    /// On Linux the nice value belongs to the calling thread (`who` 0 of PRIO_PROCESS).
    private static func lowerPriority(to niceness: Int32) {
        #if canImport(Glibc)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
        #endif
    }
}
