import Foundation
import Testing
@testable import TSDB
import Workloads
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Runs `tsdb-crash-child`, collecting its standard output until it exits or is killed.
final class CrashChild: @unchecked Sendable {
    let process = Process()
    private let pipe = Pipe()
    private let done = DispatchSemaphore(value: 0)
    private var output = Data()

    init(_ arguments: [String]) throws {
        let buildDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        process.executableURL = buildDirectory.appendingPathComponent("tsdb-crash-child")
        process.arguments = arguments
        process.standardOutput = pipe
        try process.run()
        let handle = pipe.fileHandleForReading
        // A thread of its own: libdispatch's global workers are the task pool's threads here,
        // and a read that blocks for the child's life would hold one of them.
        Thread {
            self.output = handle.readDataToEndOfFile()
            self.done.signal()
        }.start()
    }

    func kill() {
        Glibc.kill(process.processIdentifier, SIGKILL)
    }

    /// The complete lines printed (a line cut short by the kill does not count).
    func lines() async -> [String] {
        let (process, done) = (self.process, self.done)
        _ = try? await offThePool { process.waitUntilExit(); done.wait() }
        var text = String(decoding: output, as: UTF8.self)
        if !text.hasSuffix("\n"), let cut = text.lastIndex(of: "\n") { text = String(text[...cut]) }
        if !text.contains("\n") { return [] }
        return text.split(separator: "\n").map(String.init)
    }
}

func expectedCrashValue(_ i: Int, _ t: Int64) -> Double { Double(t / 1000 % 100_000) + Double(i) / 8 }

/// Checks the store against the commits the child reported: every reported commit present in
/// every series, every sample correct, and each commit all-or-nothing across series.
func verifyCrashStore(_ dir: String, series: Int, committed: Set<Int64>) throws -> Int {
    let db = try DB.open(directory: dir)
    defer { db.close() }
    let got = read(db.querier(mint: .min, maxt: .max), [.equal("__name__", "crash_test")])
    #expect(got.count == series)
    var times: Set<Int64>?
    for (labels, samples) in got {
        let i = Int(labels["series"] ?? "") ?? -1
        let ts = samples.map(\.0)
        #expect(ts == ts.sorted() && Set(ts).count == ts.count, "each sample once, in order")
        #expect(samples.allSatisfy { $0.1 == expectedCrashValue(i, $0.0) })
        #expect(committed.isSubset(of: Set(ts)), "lost \(committed.subtracting(ts).count) committed samples of \(labels)")
        if let times { #expect(times == Set(ts), "a commit was split across series") }
        times = Set(ts)
    }
    return times?.count ?? 0
}

@Suite(.serialized) struct CrashTests {
    @Test func sigkillAtRandomMomentsLosesNoCommittedSample() async throws {
        let dir = temporaryDirectory()
        defer { Files.remove(dir) }
        var rng = SplitMix64(seed: UInt64(UInt32(truncatingIfNeeded: Date().timeIntervalSince1970.bitPattern)))
        var committed = Set<Int64>()
        for _ in 0..<6 {
            let child = try CrashChild([dir, "40", "65536"])
            try await Task.sleep(for: .microseconds(20_000 + rng.next() % 400_000))
            child.kill()
            for line in await child.lines() {
                if line.hasPrefix("committed "), let t = Int64(line.dropFirst(10)) { committed.insert(t) }
                #expect(!line.hasPrefix("open failed"), "\(line)")
            }
        }
        #expect(committed.count > 50)
        let stored = try verifyCrashStore(dir, series: 40, committed: committed)
        #expect(stored >= committed.count)
    }

    @Test func aSecondProcessIsRefusedTheDirectory() async throws {
        let dir = temporaryDirectory()
        defer { Files.remove(dir) }
        let db = try DB.open(directory: dir)
        defer { db.close() }
        let child = try CrashChild([dir, "1", "65536"])
        let lines = await child.lines()
        #expect(child.process.terminationStatus == 3)
        #expect(lines.first?.contains("is in use by another process (pid \(getpid()))") == true, "\(lines)")
    }

    @Test func fullDiskStopsIngestionAndCorruptsNothing() async throws {
        let dir = temporaryDirectory()
        defer { Files.remove(dir) }
        let child = try CrashChild([dir, "20", "1048576", "300000"])
        let lines = await child.lines()
        #expect(child.process.terminationStatus == 0)
        let failure = lines.first { $0.hasPrefix("commit failed") } ?? ""
        #expect(failure.contains("File too large") || failure.contains("No space"), "\(lines.suffix(2))")
        let committed = Set(lines.compactMap { $0.hasPrefix("committed ") ? Int64($0.dropFirst(10)) : nil })
        #expect(committed.count > 100)
        let db = try DB.open(directory: dir)
        #expect(db.replayStats.corruptions == 0)
        db.close()
        // Exactly the committed samples: the failed commit left nothing behind.
        #expect(try verifyCrashStore(dir, series: 20, committed: committed) == committed.count)
    }
}
