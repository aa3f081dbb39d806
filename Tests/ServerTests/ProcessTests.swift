import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The built `sextant` binary as a child process on a free loopback port.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    let directory: String

    /// Starts `sextant serve` on `directory` and `port` with `arguments` added: the binary built
    /// beside the tests, or `SEXTANT_BINARY` when set (a release build, to measure).
    init(directory: String, port: Int, arguments: [String] = []) throws {
        self.directory = directory
        self.port = port
        let build = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        process.executableURL = ProcessInfo.processInfo.environment["SEXTANT_BINARY"].map(URL.init(fileURLWithPath:))
            ?? build.appendingPathComponent("sextant")
        process.arguments = ["serve", "--storage.tsdb.path", directory, "--web.listen-address", "127.0.0.1:\(port)",
                             "--log.level", "warn"] + arguments
        // Not the test's own output: a child that outlives a failed test must not hold it open.
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// A child still running when the test lets go of it (a test that failed before stopping
    /// it) is killed, so no server outlives its test.
    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Waits until /-/ready answers 200.
    func waitReady(timeout: Double = 30) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let (_, r) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/-/ready")!),
               (r as? HTTPURLResponse)?.statusCode == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CancellationError()
    }

    func terminate() -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// A port nothing listens on right now.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

@Suite(.serialized) struct ProcessTests {
    /// Imports in a loop while SIGTERM arrives; after a restart every import that was answered
    /// with 2xx is there.
    @Test func sigtermDuringIngestionLosesNothingCommitted() async throws {
        let dir = NSTemporaryDirectory() + "sextant-sigterm-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = ServerProcess.freePort()
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
        let status = server.terminate()
        await importer.value
        #expect(status == 0)
        let acked = acknowledged.all
        #expect(acked.count >= 20)

        let restarted = try ServerProcess(directory: dir, port: port)
        try await restarted.waitReady()
        defer { _ = restarted.terminate() }
        let url = "http://127.0.0.1:\(port)/api/v1/query?query=\(q("count_over_time(sigterm_test[1d])"))&time=\(1_010 + (acked.max() ?? 0))"
        let (data, _) = try await URLSession.shared.data(from: URL(string: url)!)
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let result = (json?["data"] as? [String: Any])?["result"] as? [[String: Any]] ?? []
        #expect(result.count == 50)
        for r in result {
            let count = Int(((r["value"] as? [Any])?.last as? String) ?? "") ?? 0
            #expect(count >= acked.count, "\(r)")
        }
    }
}

final class Acknowledged: @unchecked Sendable {
    private let lock = NSLock()
    private var batches: [Int] = []
    func add(_ b: Int) { lock.lock(); batches.append(b); lock.unlock() }
    var all: [Int] { lock.lock(); defer { lock.unlock() }; return batches }
}
