import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Debian's Prometheus 2.42 (`/usr/bin/prometheus`) as a child process on a loopback port,
/// with a configuration given as text and its data in a directory of its own: the real peer of
/// the remote write and remote read tests.
public final class PrometheusProcess: @unchecked Sendable {
    public static let binary = "/usr/bin/prometheus"
    public let process = Process()
    public let port: Int
    public let directory: String
    /// Whether the directory goes when this process object does.
    let ownsDirectory: Bool

    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    /// Starts Prometheus; with `directory`, on the data of an earlier run there (kept afterwards).
    public init(config: String, port: Int = freePort(), directory: String? = nil, arguments: [String] = []) throws {
        self.port = port
        ownsDirectory = directory == nil
        self.directory = directory ?? NSTemporaryDirectory() + "sextant-prometheus-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        try config.write(toFile: self.directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--config.file=\(self.directory)/prometheus.yml", "--storage.tsdb.path=\(self.directory)/data",
                             "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
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

    /// Waits until /-/ready answers 200.
    public func waitReady(timeout: Double = 60) async throws {
        let ready = await eventually(timeout, every: .milliseconds(100)) { [port, process] in
            guard process.isRunning else { return true }
            guard let (_, r) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/-/ready")!) else { return false }
            return (r as? HTTPURLResponse)?.statusCode == 200
        }
        guard process.isRunning, ready else { throw ServerProcessError.notReady(seconds: timeout) }
    }

    /// Sends SIGTERM and waits for the exit (Prometheus flushes its remote write queues first).
    public func terminate() async -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        let process = self.process
        return (try? await offThePool { process.waitUntilExit(); return process.terminationStatus }) ?? -1
    }
}

/// VictoriaMetrics 1.79 (Debian's `victoria-metrics`) on a loopback port: a remote write
/// receiver that keeps duplicates (no deduplication configured), so a sample sent twice counts twice.
public final class VictoriaMetricsProcess: @unchecked Sendable {
    public static let binary = "/usr/bin/victoria-metrics"
    public let process = Process()
    public let port: Int
    public let directory: String

    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    let ownsDirectory: Bool

    /// Starts VictoriaMetrics; with `directory`, on the data of an earlier run there (kept afterwards).
    public init(port: Int = freePort(), directory: String? = nil) throws {
        self.port = port
        ownsDirectory = directory == nil
        self.directory = directory ?? NSTemporaryDirectory() + "sextant-vm-\(UUID().uuidString)"
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["-storageDataPath=\(self.directory)", "-httpListenAddr=127.0.0.1:\(port)", "-search.disableCache",
                             "-search.latencyOffset=0s", "-loggerLevel=ERROR", "-retentionPeriod=100y"]
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

    public func waitReady(timeout: Double = 60) async throws {
        let ready = await eventually(timeout, every: .milliseconds(100)) { [port, process] in
            guard process.isRunning else { return true }
            guard let (_, r) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/health")!) else { return false }
            return (r as? HTTPURLResponse)?.statusCode == 200
        }
        guard process.isRunning, ready else { throw ServerProcessError.notReady(seconds: timeout) }
    }

    public func terminate() async -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        let process = self.process
        return (try? await offThePool { process.waitUntilExit(); return process.terminationStatus }) ?? -1
    }
}

/// The raw samples of every series an instant query of a range selector returns from a
/// Prometheus-compatible API at `url` (`query` like `up[1h]`), by series text; for a query
/// answering a vector, each series' one value.
public func rawSamples(_ url: String, _ query: String, at time: Double? = nil) async throws -> [String: [Int64: String]] {
    var components = URLComponents(string: url + "/api/v1/query")!
    components.queryItems = [URLQueryItem(name: "query", value: query)] + (time.map { [URLQueryItem(name: "time", value: String($0))] } ?? [])
    let (data, _) = try await URLSession.shared.data(from: components.url!)
    guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
          let body = json["data"] as? [String: Any], let result = body["result"] as? [[String: Any]] else {
        throw RawSamplesError(answer: String(decoding: data, as: UTF8.self))
    }
    var out: [String: [Int64: String]] = [:]
    for series in result {
        let metric = (series["metric"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        let values = series["values"] as? [Any] ?? (series["value"].map { [$0] } ?? [])
        for case let pair as [Any] in values where pair.count == 2 {
            guard let t = pair[0] as? Double, let v = pair[1] as? String else { continue }
            out[metric, default: [:]][Int64((t * 1000).rounded())] = v
        }
    }
    return out
}

/// An API answer that was not a success with a result.
public struct RawSamplesError: Error, CustomStringConvertible {
    public let answer: String
    public var description: String { "unexpected answer: \(answer.prefix(500))" }
}
