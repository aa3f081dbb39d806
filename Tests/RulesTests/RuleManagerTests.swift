import Foundation
import Logging
@testable import Rules
import Testing
import TestSupport
import TSDB

/// The schedule and the reload rules of the manager.
@Suite struct RuleManagerTests {
    @Test func evaluationTimesKeepTheirOffsetInTheInterval() {
        for (now, interval, offset, expected) in [
            (Int64(0), Int64(60_000), Int64(7_000), Int64(7_000)),
            (7_000, 60_000, 7_000, 67_000),
            (66_999, 60_000, 7_000, 67_000),
            (1_700_000_000_123, 15_000, 0, 1_700_000_010_000),
            (-5, 10, 3, 3),
        ] {
            let next = RuleManager.nextEvaluation(after: now, interval: interval, offset: offset)
            #expect(next == expected, "after \(now) every \(interval) at +\(offset)")
            #expect(next > now && next - now <= interval && ((next - offset) % interval + interval) % interval == 0)
        }
    }

    /// A bad file refuses the update; the groups in force stay.
    @Test func aBadFileLeavesTheRunningGroups() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "groups:\n  - name: a\n    rules:\n      - record: x\n        expr: vector(1)\n".write(toFile: dir + "/a.yml", atomically: true, encoding: .utf8)
        try "groups:\n  - name: b\n    rules:\n      - record: 'bad name'\n        expr: up\n".write(toFile: dir + "/b.yml", atomically: true, encoding: .utf8)
        let head = Head(options: HeadOptions(chunkSize: 16, stripeCount: 8))
        let manager = RuleManager(store: head, storage: head, logger: Logger(label: "test"))
        try manager.update(files: [dir + "/a.yml"], evaluationInterval: 60_000)
        #expect(manager.snapshot().map(\.evaluator.group.name) == ["a"])
        #expect(throws: RuleFileError.self) { try manager.update(files: [dir + "/a.yml", dir + "/b.yml"], evaluationInterval: 60_000) }
        #expect(manager.snapshot().map(\.evaluator.group.name) == ["a"])
        await manager.stop()
        #expect(manager.snapshot().isEmpty)
    }
}
