import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A server binary as a child process on a loopback port, with a data directory (removed
/// afterwards unless it was given): Sextant itself (`ServerProcess`) and the real peers from
/// Debian packages (`PrometheusProcess`, `VictoriaMetricsProcess`). A child still running
/// when the test lets go of it (a test that failed before stopping it) is killed.
public class PeerProcess: @unchecked Sendable {
    public let process = Process()
    public let port: Int
    public let directory: String
    let ownsDirectory: Bool
    let readyPath: String

    /// Starts `binary` with the arguments made for `directory` (a new temporary one when nil,
    /// removed when this object goes). Its output goes nowhere: a child that outlives a
    /// failed test must not hold the test's output open.
    init(binary: String, port: Int, directory: String?, readyPath: String, arguments: (String) -> [String]) throws {
        self.port = port
        self.readyPath = readyPath
        ownsDirectory = directory == nil
        self.directory = directory ?? NSTemporaryDirectory() + "sextant-peer-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments(self.directory)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        if ownsDirectory { try? FileManager.default.removeItem(atPath: directory) }
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    /// Waits until the readiness endpoint answers 200, for up to `timeout` seconds of wall
    /// time (asking once more after it, in case this task was not scheduled meanwhile).
    public func waitReady(timeout: Double = 60) async throws {
        let ready = await eventually(timeout, every: .milliseconds(100)) { [port, process, readyPath] in
            guard process.isRunning else { return true }
            guard let (_, r) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(readyPath)")!) else { return false }
            return (r as? HTTPURLResponse)?.statusCode == 200
        }
        let name = process.executableURL?.lastPathComponent ?? "the process"
        guard process.isRunning else { throw ServerProcessError.exited(name, process.terminationStatus) }
        guard ready else { throw ServerProcessError.notReady(name, seconds: timeout) }
    }

    /// Sends SIGTERM and waits (off the pool) for the exit status (Prometheus and Sextant
    /// flush their remote write queues first).
    public func terminate() async -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        let process = self.process
        return (try? await offThePool { process.waitUntilExit(); return process.terminationStatus }) ?? -1
    }
}
