import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct ProcessTests {
    /// Imports in a loop while SIGTERM arrives; after a restart every import that was answered
    /// with 2xx is there.
    @Test func sigtermDuringIngestionLosesNothingCommitted() async throws {
        let dir = NSTemporaryDirectory() + "sextant-sigterm-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = freePort()
        let server = try ServerProcess(directory: dir, port: port)
        try await server.waitReady()
        let acknowledged = Acknowledged()
        let importer = Task {
            for batch in 0..<100_000 {
                var r = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/import/prometheus")!)
                r.httpMethod = "POST"
                r.httpBody = Data((0..<50).map { "sigterm_test{i=\"\($0)\"} \(batch) \(1_000_000 + batch * 1000)" }.joined(separator: "\n").utf8)
                guard let (_, resp) = try? await URLSession.shared.data(for: r) else { return }
                if (resp as? HTTPURLResponse)?.statusCode == 200 { acknowledged.add(batch) } else { return }
            }
        }
        // Let ingestion get going (however slow the machine), then stop the server under it.
        for _ in 0..<400 where acknowledged.all.count < 20 { try await Task.sleep(for: .milliseconds(25)) }
        let status = await server.terminate()
        await importer.value
        #expect(status == 0)
        let acked = acknowledged.all
        #expect(acked.count >= 20)

        let restarted = try ServerProcess(directory: dir, port: port)
        try await restarted.waitReady()
        let url = "http://127.0.0.1:\(port)/api/v1/query?query=\(q("count_over_time(sigterm_test[1d])"))&time=\(1_010 + (acked.max() ?? 0))"
        let (data, _) = try await URLSession.shared.data(from: URL(string: url)!)
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let result = (json?["data"] as? [String: Any])?["result"] as? [[String: Any]] ?? []
        #expect(result.count == 50)
        for r in result {
            let count = Int(((r["value"] as? [Any])?.last as? String) ?? "") ?? 0
            #expect(count >= acked.count, "\(r)")
        }
        #expect(await restarted.terminate() == 0)
    }
}

final class Acknowledged: @unchecked Sendable {
    private let lock = NSLock()
    private var batches: [Int] = []
    func add(_ b: Int) { lock.lock(); batches.append(b); lock.unlock() }
    var all: [Int] { lock.lock(); defer { lock.unlock() }; return batches }
}
