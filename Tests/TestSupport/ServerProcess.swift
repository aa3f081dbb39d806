import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The built `sextant` binary as a child process on a loopback port.
public final class ServerProcess: @unchecked Sendable {
    public let process = Process()
    public let port: Int
    public let directory: String

    /// Starts `sextant serve` on `directory` and `port` with `arguments` added (the binary of
    /// `sextantBinary`).
    public init(directory: String, port: Int, arguments: [String] = []) throws {
        self.directory = directory
        self.port = port
        process.executableURL = URL(fileURLWithPath: sextantBinary)
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

    /// Waits until /-/ready answers 200, for up to `timeout` seconds of wall time (asking once
    /// more after it, in case this task was not scheduled meanwhile).
    public func waitReady(timeout: Double = 60) async throws {
        let ready = await eventually(timeout) { [port, process] in
            guard process.isRunning else { return true }
            let url = URL(string: "http://127.0.0.1:\(port)/-/ready")!
            guard let (_, response) = try? await URLSession.shared.data(from: url) else { return false }
            return (response as? HTTPURLResponse)?.statusCode == 200
        }
        guard process.isRunning else { throw ServerProcessError.exited(process.terminationStatus) }
        guard ready else { throw ServerProcessError.notReady(seconds: timeout) }
    }

    /// Sends SIGTERM and waits (off the pool) for the exit status.
    public func terminate() async -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        let process = self.process
        return (try? await offThePool { process.waitUntilExit(); return process.terminationStatus }) ?? -1
    }
}

/// Why a server process never became ready.
public enum ServerProcessError: Error, CustomStringConvertible {
    case exited(Int32)
    case notReady(seconds: Double)

    public var description: String {
        switch self {
        case .exited(let status): "sextant serve exited with status \(status) before it was ready"
        case .notReady(let seconds): "sextant serve was not ready within \(seconds) s"
        }
    }
}
