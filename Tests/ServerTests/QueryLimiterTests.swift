import Foundation
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
    @Test func queuedQueriesGiveUpAtTheirDeadline() async throws {
        let limiter = QueryLimiter(limit: 1)
        let gate = DispatchSemaphore(value: 0)
        let busy = Task { await limiter.run(until: .now + .seconds(60)) { gate.wait(); return 1 } }
        try await Task.sleep(for: .milliseconds(100))
        let started = ContinuousClock.now
        let expired = await limiter.run(until: .now + .milliseconds(200)) { 2 }
        #expect(expired == nil)
        #expect(ContinuousClock.now - started < .seconds(30), "gave up at the deadline, while the slot was still busy")
        let waiting = Task { await limiter.run(until: .now + .seconds(60)) { 3 } }
        try await Task.sleep(for: .milliseconds(100))
        gate.signal()
        #expect(await busy.value == 1)
        #expect(await waiting.value == 3)
        #expect(await limiter.run(until: .now + .seconds(60)) { 4 } == 4, "the slot was freed")
    }
}
