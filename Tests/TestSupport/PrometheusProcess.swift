import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Debian's Prometheus 2.42 (`/usr/bin/prometheus`) with a configuration given as text.
public final class PrometheusProcess: PeerProcess, @unchecked Sendable {
    public static let binary = "/usr/bin/prometheus"
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    /// Starts Prometheus; with `directory`, on the data of an earlier run there (kept afterwards).
    public init(config: String, port: Int = freePort(), directory: String? = nil, arguments: [String] = []) throws {
        try super.init(binary: Self.binary, port: port, directory: directory, readyPath: "/-/ready") { dir in
            // The configuration file goes beside the data before the process reads it.
            try? config.write(toFile: dir + "/prometheus.yml", atomically: true, encoding: .utf8)
            return ["--config.file=\(dir)/prometheus.yml", "--storage.tsdb.path=\(dir)/data",
                    "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn"] + arguments
        }
    }
}

/// VictoriaMetrics 1.79 (Debian's `victoria-metrics`): a remote write receiver that keeps
/// duplicates (no deduplication configured), so a sample sent twice counts twice.
public final class VictoriaMetricsProcess: PeerProcess, @unchecked Sendable {
    public static let binary = "/usr/bin/victoria-metrics"
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    /// Starts VictoriaMetrics; with `directory`, on the data of an earlier run there (kept afterwards).
    public init(port: Int = freePort(), directory: String? = nil) throws {
        try super.init(binary: Self.binary, port: port, directory: directory, readyPath: "/health") { dir in
            ["-storageDataPath=\(dir)", "-httpListenAddr=127.0.0.1:\(port)", "-search.disableCache",
             "-search.latencyOffset=0s", "-loggerLevel=ERROR", "-retentionPeriod=100y"]
        }
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

/// Alertmanager 0.25 (Debian's `prometheus-alertmanager`) with a receiver that sends nowhere,
/// gossip off (no port besides its own), for tests that send it alerts and read them back.
public final class AlertmanagerProcess: PeerProcess, @unchecked Sendable {
    public static let binary = "/usr/bin/prometheus-alertmanager"
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    /// The user and password of `basicAuth` (`s3cret`, bcrypt cost 4 as Alertmanager's web
    /// configuration wants it).
    public static let basicAuthUser = "sextant"
    public static let basicAuthPassword = "s3cret"
    static let basicAuthHash = "$2b$04$QSkAoQyAPQHPINBwIQnSi.2Y7cuIN3NEeOPYKtT3gdEH0t0vRnLYS"
    let basicAuth: Bool

    /// With `basicAuth`, every request needs `basicAuthUser` and `basicAuthPassword`; with
    /// `tls`, a directory holding `cert.pem` and `key.pem`, it answers HTTPS only.
    public init(port: Int = freePort(), basicAuth: Bool = false, tls: String? = nil) throws {
        self.basicAuth = basicAuth
        try super.init(binary: Self.binary, port: port, directory: nil, readyPath: "/-/ready") { dir in
            try? "route:\n  receiver: default\n  group_wait: 1s\nreceivers:\n  - name: default\n"
                .write(toFile: dir + "/am.yml", atomically: true, encoding: .utf8)
            var web = "", flags: [String] = []
            if basicAuth { web += "basic_auth_users:\n  \(Self.basicAuthUser): \(Self.basicAuthHash)\n" }
            if let tls { web += "tls_server_config:\n  cert_file: \(tls)/cert.pem\n  key_file: \(tls)/key.pem\n" }
            if !web.isEmpty {
                try? web.write(toFile: dir + "/web.yml", atomically: true, encoding: .utf8)
                flags = ["--web.config.file=\(dir)/web.yml"]
            }
            return ["--config.file=\(dir)/am.yml", "--storage.path=\(dir)/data", "--web.listen-address=127.0.0.1:\(port)",
                    "--cluster.listen-address=", "--log.level=warn"] + flags
        }
    }

    /// Waits until the API answers (with basic auth, `/-/ready` answers 401 to everyone else).
    public func waitAnswering(timeout: Double = 60) async throws {
        guard basicAuth else { return try await waitReady(timeout: timeout) }
        let answering = await eventually(timeout, every: .milliseconds(100)) { [self] in (try? await alerts()) != nil }
        guard answering else { throw ServerProcessError.notReady("prometheus-alertmanager", seconds: timeout) }
    }

    /// The alerts Alertmanager holds now (`GET /api/v2/alerts`; resolved ones are not listed).
    public func alerts() async throws -> [[String: Any]] {
        var request = URLRequest(url: URL(string: url + "/api/v2/alerts")!)
        if basicAuth {
            let token = Data("\(Self.basicAuthUser):\(Self.basicAuthPassword)".utf8).base64EncodedString()
            request.setValue("Basic " + token, forHTTPHeaderField: "Authorization")
        }
        let (data, _) = try await URLSession.shared.data(for: request)
        return try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []
    }
}
