import Foundation
import Testing
@testable import TSDB

/// The fan-out that queries and compaction share: results in order, from many callers at once
/// and from inside its own bodies (where waiting for a helper that has not started would
/// deadlock), on niced worker threads.
@Suite struct ParallelTests {
    @Test func resultsInIndexOrderFromManyCallersAndNested() async {
        let sums = await withTaskGroup(of: Int.self) { group in
            for caller in 0..<8 {
                group.addTask {
                    await WorkerThreads(count: 1, name: "caller").run {
                        var total = 0
                        for round in 0..<50 {
                            let outer = Parallel.map(7) { i in
                                Parallel.map(5) { j in (caller + round + i) * 10 + j }.reduce(0, +)
                            }
                            let expected = (0..<7).map { i in (0..<5).reduce(0) { $0 + (caller + round + i) * 10 + $1 } }
                            if outer == expected { total += 1 }
                        }
                        return total
                    }
                }
            }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(sums == Array(repeating: 50, count: 8))
    }

    @Test func smallCountsRunInline() {
        #expect(Parallel.map(0) { $0 }.isEmpty)
        #expect(Parallel.map(1) { $0 + 1 } == [1])
        #expect(Parallel.map(1000) { $0 * 2 } == (0..<1000).map { $0 * 2 })
    }

    /// A pool stopped and released at once, as an owner's deinit does: its threads wake to
    /// find the pool stopped and end, never reading freed state (they hold the pool until then).
    @Test func poolsStoppedAndReleasedAtOnceEndCleanly() async {
        for _ in 0..<200 {
            var pool: WorkerThreads? = WorkerThreads(count: 2, name: "test-release", niceness: 0)
            pool?.stop()
            pool = nil
            _ = pool
        }
        // Threads that outlived their pool would trap while this waits.
        try? await Task.sleep(for: .milliseconds(300))
        let pool = WorkerThreads(count: 2, name: "test-after", niceness: 0)
        #expect(await pool.run { 41 + 1 } == 42)
        pool.stop()
    }
}
