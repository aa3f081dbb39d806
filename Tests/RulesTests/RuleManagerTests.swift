import Foundation
import Logging
import PromQL
import Storage
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
            let next: Int64? = RuleManager.nextEvaluation(after: now, interval: interval, offset: offset)
            #expect(next == expected, "after \(now) every \(interval) at +\(offset)")
            guard let next else { continue }
            let phase: Int64 = ((next - offset) % interval + interval) % interval
            #expect(next > now && next - now <= interval && phase == 0)
        }
        // Where the next time does not fit in 64 bits there is none (the group stops).
        #expect(RuleManager.nextEvaluation(after: .max - 5, interval: 60_000, offset: 0) == nil)
        #expect(RuleManager.nextEvaluation(after: .min + 5, interval: 60_000, offset: 7) == nil)
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

    /// An unchanged group keeps running (same object, same state); a changed one is replaced,
    /// taking over the series of its rules that stayed; a rule that went gets stale markers.
    @Test func reloadKeepsUnchangedGroupsAndRetiresTheRest() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/r.yml"
        func write(_ record: String, _ expr: String) throws {
            try "groups:\n  - name: a\n    rules:\n      - record: x\n        expr: vector(1)\n  - name: b\n    rules:\n      - record: \(record)\n        expr: \(expr)\n"
                .write(toFile: path, atomically: true, encoding: .utf8)
        }
        func values(_ name: String) -> [Double] {
            var set = head.querier(mint: 0, maxt: .max).select([.equal("__name__", name)], hints: nil)
            var out: [Double] = []
            while set.next() {
                var it = set.at().makeIterator()
                while it.next() { out.append(it.at().v) }
            }
            return out
        }
        try write("y", "vector(2)")
        let head = Head(options: HeadOptions(chunkSize: 16, stripeCount: 8))
        let manager = RuleManager(store: head, storage: head, logger: Logger(label: "test"))
        try manager.update(files: [path], evaluationInterval: 3_600_000)
        let before = manager.running.withLock { $0 }
        // Evaluate b once by hand so that it has a series to retire.
        before[1].evaluator.withLock { $0.evaluate(at: 1000, engine: Engine(), storage: head, store: head) }
        try write("y", "vector(3)")
        try manager.update(files: [path], evaluationInterval: 3_600_000)
        let after = manager.running.withLock { $0 }
        #expect(after[0] === before[0] && after[1] !== before[1])
        #expect(values("y") == [2], "the changed rule's series was taken over, not marked stale")
        try write("z", "vector(3)")
        try manager.update(files: [path], evaluationInterval: 3_600_000)
        let y = values("y")
        #expect(y.count == 2 && y.first == 2 && y.last.map(isStaleMarker) == true)
        await manager.stop()
    }
}
