import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The built `sextant` binary as a child process on a loopback port (`sextant serve` on a
/// data directory the test owns).
public final class ServerProcess: PeerProcess, @unchecked Sendable {
    /// Starts `sextant serve` on `directory` and `port` with `arguments` added (the binary of
    /// `sextantBinary`).
    public init(directory: String, port: Int, arguments: [String] = []) throws {
        try super.init(binary: sextantBinary, port: port, directory: directory, readyPath: "/-/ready") { dir in
            ["serve", "--storage.tsdb.path", dir, "--web.listen-address", "127.0.0.1:\(port)", "--log.level", "warn"] + arguments
        }
    }
}

/// Why a child server never became ready.
public enum ServerProcessError: Error, CustomStringConvertible {
    case exited(String, Int32)
    case notReady(String, seconds: Double)

    public var description: String {
        switch self {
        case .exited(let name, let status): "\(name) exited with status \(status) before it was ready"
        case .notReady(let name, let seconds): "\(name) was not ready within \(seconds) s"
        }
    }
}
