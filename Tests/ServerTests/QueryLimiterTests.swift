import Foundation
import Synchronization
import Testing
@testable import Server
import TSDB
#if canImport(Glibc)
import Glibc
#endif

@Suite struct QueryLimiterTests {
    /// Queries run on the limiter's own threads, niced below the event loops.
    @Test func queriesRunOnNicedThreads() async throws {
        let limiter = QueryLimiter(limit: 2)
        let nice = await limiter.run(until: .now + .seconds(60)) { () -> Int32 in
            getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        }
        #expect(nice == WorkerThreads.niceness)
    }

    /// With every slot busy, a queued query whose deadline passes gets nil at its deadline
    /// (not when the slot frees), and one with time left runs once the slot is handed over.
    ///
    /// "At its deadline, not when the slot frees" is checked by order, not by a clock: the slot
    /// is freed only after the expired query has answered (a guard frees it after two minutes,
    /// so a limiter that waited for the slot fails instead of hanging). A wall-clock bound
    /// failed under ThreadSanitizer, where other suites held the task pool for a minute.
    @Test func queuedQueriesGiveUpAtTheirDeadline() async throws {
        let limiter = QueryLimiter(limit: 1)
        let gate = DispatchSemaphore(value: 0)
        let freed = Atomic<Bool>(false)
        let busy = Task { await limiter.run(until: .now + .seconds(600)) { gate.wait(); return 1 } }
        let guardTask = Task {
            try await Task.sleep(for: .seconds(120))
            freed.store(true, ordering: .sequentiallyConsistent)
            gate.signal()
        }
        try await Task.sleep(for: .milliseconds(100))
        let expired = await limiter.run(until: .now + .milliseconds(200)) { 2 }
        #expect(expired == nil)
        let slotWasFreed = freed.load(ordering: .sequentiallyConsistent)
        #expect(!slotWasFreed, "gave up at the deadline, while the slot was still busy")
        guardTask.cancel()
        let waiting = Task { await limiter.run(until: .now + .seconds(600)) { 3 } }
        try await Task.sleep(for: .milliseconds(100))
        gate.signal()
        #expect(await busy.value == 1)
        #expect(await waiting.value == 3)
        #expect(await limiter.run(until: .now + .seconds(60)) { 4 } == 4, "the slot was freed")
    }
}
