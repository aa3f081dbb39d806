import Foundation
import Storage

/// One `remote_write` entry, as Prometheus reads it (durations in milliseconds).
public struct RemoteWriteConfig: Sendable {
    public var url: String
    /// `name`, or a hash of the entry when none is given (Prometheus' 6 hex digits).
    public var name: String
    public var remoteTimeout: Int64 = 30_000
    public var headers: [String: String] = [:]
    public var writeRelabel: [RelabelConfig] = []
    public var http = HTTPClientSettings()
    public var queue = QueueConfig()
    public var metadata = MetadataConfig()
    /// The entry as written, canonically: a reload keeps a queue whose identity is unchanged.
    public var identity = ""

    /// `queue_config`, with Prometheus' defaults.
    public struct QueueConfig: Sendable, Hashable {
        public var capacity = 2500
        public var minShards = 1
        public var maxShards = 200
        public var maxSamplesPerSend = 500
        public var batchSendDeadline: Int64 = 5000
        public var minBackoff: Int64 = 30
        public var maxBackoff: Int64 = 5000
        public var retryOnRateLimit = false

        public init() {}
    }

    /// `metadata_config`.
    public struct MetadataConfig: Sendable, Hashable {
        public var send = true
        public var sendInterval: Int64 = 60_000
        public var maxSamplesPerSend = 500

        public init() {}
    }

    public init(url: String, name: String) {
        self.url = url
        self.name = name
    }

    /// Headers a configuration may not set (Prometheus' `reservedHeaders`): the protocol's own,
    /// and `Authorization`, which belongs in `basic_auth` or `authorization`.
    static let reservedHeaders: Set<String> = [
        "authorization", "host", "content-encoding", "content-length", "content-type", "user-agent", "connection",
        "keep-alive", "proxy-authenticate", "proxy-authorization", "www-authenticate", "accept-encoding",
        "x-prometheus-remote-write-version", "x-prometheus-remote-read-version", "x-prometheus-scrape-timeout-seconds",
    ]

    static let keys = ["url", "name", "remote_timeout", "headers", "write_relabel_configs", "queue_config", "metadata_config",
                       "send_exemplars", "send_native_histograms", "proxy_url", "oauth2", "sigv4"] + HTTPClientSettings.keys

    static func parse(_ node: Node) throws(ConfigError) -> RemoteWriteConfig {
        let m = try node.map(keys)
        for unsupported in ["proxy_url", "oauth2", "sigv4"] {
            if let n = m[unsupported] { throw n.error("\(unsupported) is not supported by Sextant") }
        }
        let url = try remoteURL(m, node)
        var c = RemoteWriteConfig(url: url, name: try m["name"]?.string() ?? "")
        c.remoteTimeout = try m["remote_timeout"]?.duration() ?? c.remoteTimeout
        c.headers = try headers(m["headers"])
        c.writeRelabel = try (m["write_relabel_configs"]?.list() ?? []).map { (n) throws(ConfigError) in try ScrapeJob.relabelConfig(n) }
        c.http = try HTTPClientSettings.parse(m, node)
        if let q = m["queue_config"] {
            let qm = try q.map(["capacity", "min_shards", "max_shards", "max_samples_per_send", "batch_send_deadline",
                                "min_backoff", "max_backoff", "retry_on_http_429", "sample_age_limit"])
            c.queue.capacity = try qm["capacity"]?.int() ?? c.queue.capacity
            c.queue.minShards = try qm["min_shards"]?.int() ?? c.queue.minShards
            c.queue.maxShards = try qm["max_shards"]?.int() ?? c.queue.maxShards
            c.queue.maxSamplesPerSend = try qm["max_samples_per_send"]?.int() ?? c.queue.maxSamplesPerSend
            c.queue.batchSendDeadline = try qm["batch_send_deadline"]?.duration() ?? c.queue.batchSendDeadline
            c.queue.minBackoff = try qm["min_backoff"]?.duration() ?? c.queue.minBackoff
            c.queue.maxBackoff = try qm["max_backoff"]?.duration() ?? c.queue.maxBackoff
            c.queue.retryOnRateLimit = try qm["retry_on_http_429"]?.bool() ?? false
            // Bounds Prometheus 2.42 does not check, each of which would stall or flood a queue.
            guard (1...1000).contains(c.queue.minShards), (c.queue.minShards...1000).contains(c.queue.maxShards) else {
                throw q.error("shards must satisfy 1 <= min_shards <= max_shards <= 1000")
            }
            guard (1...100_000).contains(c.queue.maxSamplesPerSend), c.queue.capacity >= c.queue.maxSamplesPerSend,
                  c.queue.capacity <= 10_000_000 else {
                throw q.error("max_samples_per_send must be 1...100000 and capacity between it and 10000000")
            }
            guard c.queue.minBackoff <= c.queue.maxBackoff else { throw q.error("min_backoff must not exceed max_backoff") }
        }
        if let md = m["metadata_config"] {
            let mm = try md.map(["send", "send_interval", "max_samples_per_send"])
            c.metadata.send = try mm["send"]?.bool() ?? true
            c.metadata.sendInterval = try mm["send_interval"]?.duration() ?? c.metadata.sendInterval
            c.metadata.maxSamplesPerSend = max(1, try mm["max_samples_per_send"]?.int() ?? c.metadata.maxSamplesPerSend)
        }
        c.identity = node.canonical
        if c.name.isEmpty {
            // Prometheus names an unnamed queue by a hash of its whole entry; this hashes what
            // decides the data sent (URL, headers, relabeling), so the name, and the position
            // file named after it, stays when timeouts or shard counts change.
            let text = ["url", "headers", "write_relabel_configs"].map { m[$0]?.canonical ?? "" }.joined(separator: "|")
            var h: UInt64 = 0xCBF2_9CE4_8422_2325
            for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
            c.name = String(String(h, radix: 16).suffix(6))
        }
        return c
    }

    static func remoteURL(_ m: [String: Node], _ node: Node) throws(ConfigError) -> String {
        guard let u = m["url"] else { throw node.error("url for remote_write is empty") }
        let url = try u.string()
        guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https"].contains(scheme), parsed.host != nil else {
            throw u.error("invalid URL \"\(url)\"")
        }
        return url
    }

    static func headers(_ node: Node?) throws(ConfigError) -> [String: String] {
        guard let node else { return [:] }
        var out: [String: String] = [:]
        for (k, v) in try node.map(nil) {
            if reservedHeaders.contains(k.lowercased()) {
                throw ConfigError(path: node.child(k), message: "\(k) is a reserved header. It must not be changed")
            }
            out[k] = try v.string()
        }
        return out
    }
}

/// One `remote_read` entry.
public struct RemoteReadConfig: Sendable {
    public var url: String
    public var name: String
    public var remoteTimeout: Int64 = 60_000
    public var headers: [String: String] = [:]
    public var readRecent = false
    /// Equality matchers a selector must have for this endpoint to be asked.
    public var requiredMatchers: [String: String] = [:]
    public var filterExternalLabels = true
    public var http = HTTPClientSettings()

    public init(url: String, name: String = "") {
        self.url = url
        self.name = name
    }

    static func parse(_ node: Node) throws(ConfigError) -> RemoteReadConfig {
        let m = try node.map(["url", "name", "remote_timeout", "headers", "read_recent", "required_matchers",
                              "filter_external_labels", "proxy_url", "oauth2"] + HTTPClientSettings.keys)
        for unsupported in ["proxy_url", "oauth2"] {
            if let n = m[unsupported] { throw n.error("\(unsupported) is not supported by Sextant") }
        }
        var c = RemoteReadConfig(url: try RemoteWriteConfig.remoteURL(m, node), name: try m["name"]?.string() ?? "")
        c.remoteTimeout = try m["remote_timeout"]?.duration() ?? c.remoteTimeout
        c.headers = try RemoteWriteConfig.headers(m["headers"])
        c.readRecent = try m["read_recent"]?.bool() ?? false
        if let r = m["required_matchers"] {
            for (k, v) in try r.map(nil) { c.requiredMatchers[k] = try v.string() }
        }
        c.filterExternalLabels = try m["filter_external_labels"]?.bool() ?? true
        c.http = try HTTPClientSettings.parse(m, node)
        return c
    }
}

extension Node {
    /// The value as JSON with sorted keys: equal for equal YAML, whatever its layout.
    var canonical: String {
        guard JSONSerialization.isValidJSONObject([value]),
              let data = try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys]) else { return "\(value)" }
        return String(decoding: data, as: UTF8.self)
    }
}
