import Foundation
import TSDB
import Yams

/// A configuration error, with the path of the offending key (`scrape_configs[0].scrape_interval`).
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let message: String
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// Prometheus' configuration file, the scrape part: global settings and scrape jobs.
public struct PrometheusConfig: Sendable {
    public var scrapeInterval: Int64 = 60_000
    public var scrapeTimeout: Int64 = 10_000
    public var externalLabels = Labels.empty
    public var jobs: [ScrapeJob] = []

    public init() {}

    /// Parses and validates YAML; every unknown key and bad value is an error with its path.
    public static func parse(_ yaml: String) throws(ConfigError) -> PrometheusConfig {
        let root: Any?
        do { root = try Yams.load(yaml: yaml) } catch { throw ConfigError(path: "", message: "invalid YAML: \(error)") }
        var config = PrometheusConfig()
        guard let root else { return config }
        let top = try Node(root, "").map(["global", "scrape_configs", "rule_files", "alerting", "remote_write", "remote_read", "storage"])
        if let g = top["global"] {
            let global = try g.map(["scrape_interval", "scrape_timeout", "evaluation_interval", "external_labels", "query_log_file"])
            config.scrapeInterval = try global["scrape_interval"]?.duration() ?? config.scrapeInterval
            config.scrapeTimeout = try global["scrape_timeout"]?.duration() ?? min(config.scrapeTimeout, config.scrapeInterval)
            if let l = global["external_labels"] { config.externalLabels = try l.labels() }
        }
        if config.scrapeTimeout > config.scrapeInterval {
            throw ConfigError(path: "global.scrape_timeout", message: "scrape timeout greater than scrape interval")
        }
        var names = Set<String>()
        for (i, node) in try (top["scrape_configs"]?.list() ?? []).enumerated() {
            let job = try ScrapeJob.parse(node, global: config)
            guard names.insert(job.name).inserted else {
                throw ConfigError(path: "scrape_configs[\(i)].job_name", message: "found multiple scrape configs with job name \"\(job.name)\"")
            }
            config.jobs.append(job)
        }
        return config
    }

    public static func load(file: String) throws(ConfigError) -> PrometheusConfig {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw ConfigError(path: "", message: "cannot read \(file): \(error.localizedDescription)")
        }
        return try parse(text)
    }
}

/// One `scrape_configs` entry.
public struct ScrapeJob: Sendable {
    public var name = ""
    public var interval: Int64 = 60_000
    public var timeout: Int64 = 10_000
    public var metricsPath = "/metrics"
    public var scheme = "http"
    public var params: [String: [String]] = [:]
    public var honorLabels = false
    public var honorTimestamps = true
    public var sampleLimit = 0
    public var labelLimit = 0
    public var labelNameLengthLimit = 0
    public var labelValueLengthLimit = 0
    public var targetLimit = 0
    public var bodySizeLimit = 0
    public var basicAuth: (username: String, password: String)?
    public var authorization: (type: String, credentials: String)?
    public var tls = TLSSettings()
    public var staticConfigs: [(targets: [String], labels: Labels)] = []
    public var fileSD: [(files: [String], refreshInterval: Int64)] = []
    public var kubernetesSD: [KubernetesSDConfig] = []
    public var relabel: [RelabelConfig] = []
    public var metricRelabel: [RelabelConfig] = []

    public typealias TLSSettings = ScrapeTLS

    static let keys = ["job_name", "scrape_interval", "scrape_timeout", "metrics_path", "scheme", "params", "honor_labels",
                       "honor_timestamps", "sample_limit", "label_limit", "label_name_length_limit", "label_value_length_limit",
                       "target_limit", "body_size_limit", "basic_auth", "authorization", "bearer_token_file", "bearer_token",
                       "tls_config", "static_configs", "file_sd_configs", "kubernetes_sd_configs", "relabel_configs",
                       "metric_relabel_configs"]

    static func parse(_ node: Node, global: PrometheusConfig) throws(ConfigError) -> ScrapeJob {
        let m = try node.map(keys)
        var job = ScrapeJob()
        guard let name = try m["job_name"]?.string(), !name.isEmpty else { throw node.error("job_name is empty") }
        job.name = name
        job.interval = try m["scrape_interval"]?.duration() ?? global.scrapeInterval
        job.timeout = try m["scrape_timeout"]?.duration() ?? min(global.scrapeTimeout, job.interval)
        if job.timeout > job.interval { throw node.error("scrape timeout greater than scrape interval for scrape config with job name \"\(name)\"") }
        job.metricsPath = try m["metrics_path"]?.string() ?? job.metricsPath
        job.scheme = try m["scheme"]?.string() ?? job.scheme
        guard job.scheme == "http" || job.scheme == "https" else { throw (m["scheme"] ?? node).error("unknown scheme \(job.scheme)") }
        if let p = m["params"] {
            for (k, v) in try p.map(nil) { job.params[k] = try v.list().map { (x) throws(ConfigError) in try x.string() } }
        }
        job.honorLabels = try m["honor_labels"]?.bool() ?? false
        job.honorTimestamps = try m["honor_timestamps"]?.bool() ?? true
        job.sampleLimit = try m["sample_limit"]?.int() ?? 0
        job.labelLimit = try m["label_limit"]?.int() ?? 0
        job.labelNameLengthLimit = try m["label_name_length_limit"]?.int() ?? 0
        job.labelValueLengthLimit = try m["label_value_length_limit"]?.int() ?? 0
        job.targetLimit = try m["target_limit"]?.int() ?? 0
        job.bodySizeLimit = try m["body_size_limit"]?.bytes() ?? 0
        if let b = m["basic_auth"] {
            let bm = try b.map(["username", "password", "password_file"])
            var password = try bm["password"]?.string() ?? ""
            if let f = try bm["password_file"]?.string() { password = try readSecret(f, bm["password_file"] ?? b) }
            job.basicAuth = (try bm["username"]?.string() ?? "", password)
        }
        if let a = m["authorization"] {
            let am = try a.map(["type", "credentials", "credentials_file"])
            var credentials = try am["credentials"]?.string() ?? ""
            if let f = try am["credentials_file"]?.string() { credentials = try readSecret(f, am["credentials_file"] ?? a) }
            job.authorization = (try am["type"]?.string() ?? "Bearer", credentials)
        }
        if let t = m["bearer_token"] { job.authorization = ("Bearer", try t.string()) }
        if let f = m["bearer_token_file"] { job.authorization = ("Bearer", try readSecret(try f.string(), f)) }
        if let t = m["tls_config"] {
            let tm = try t.map(["ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify"])
            job.tls.caFile = try tm["ca_file"]?.string()
            job.tls.certFile = try tm["cert_file"]?.string()
            job.tls.keyFile = try tm["key_file"]?.string()
            job.tls.serverName = try tm["server_name"]?.string()
            job.tls.insecureSkipVerify = try tm["insecure_skip_verify"]?.bool() ?? false
        }
        for s in try m["static_configs"]?.list() ?? [] {
            let sm = try s.map(["targets", "labels"])
            let targets = try (sm["targets"]?.list() ?? []).map { (x) throws(ConfigError) in try x.string() }
            job.staticConfigs.append((targets, try sm["labels"]?.labels() ?? .empty))
        }
        for f in try m["file_sd_configs"]?.list() ?? [] {
            let fm = try f.map(["files", "refresh_interval"])
            let files = try (fm["files"]?.list() ?? []).map { (x) throws(ConfigError) in try x.string() }
            job.fileSD.append((files, try fm["refresh_interval"]?.duration() ?? 300_000))
        }
        for k in try m["kubernetes_sd_configs"]?.list() ?? [] { job.kubernetesSD.append(try KubernetesSDConfig.parse(k)) }
        job.relabel = try (m["relabel_configs"]?.list() ?? []).map { (n) throws(ConfigError) in try relabelConfig(n) }
        job.metricRelabel = try (m["metric_relabel_configs"]?.list() ?? []).map { (n) throws(ConfigError) in try relabelConfig(n) }
        return job
    }

    static func readSecret(_ path: String, _ node: Node) throws(ConfigError) -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) } catch {
            throw node.error("cannot read \(path)")
        }
    }

    static func relabelConfig(_ node: Node) throws(ConfigError) -> RelabelConfig {
        let m = try node.map(["source_labels", "separator", "target_label", "regex", "modulus", "replacement", "action"])
        let actionText = try m["action"]?.string().lowercased() ?? "replace"
        guard let action = RelabelConfig.Action(rawValue: actionText) else { throw (m["action"] ?? node).error("unknown relabel action \"\(actionText)\"") }
        do {
            return try RelabelConfig(
                sourceLabels: try (m["source_labels"]?.list() ?? []).map { (x) throws(ConfigError) in try x.string() },
                separator: try m["separator"]?.string() ?? ";", targetLabel: try m["target_label"]?.string() ?? "",
                regex: try m["regex"]?.string() ?? "(.*)", modulus: UInt64(try m["modulus"]?.int() ?? 0),
                replacement: try m["replacement"]?.string() ?? "$1", action: action)
        } catch let e as RelabelError {
            throw node.error(e.description)
        } catch let e as ConfigError {
            throw e
        } catch {
            throw node.error("\(error)")
        }
    }

    /// The scrape targets of this job: discovered label sets through relabeling; also the
    /// label sets relabeling dropped.
    public func targets(extra: [Labels] = []) -> (active: [ScrapeTarget], dropped: [Labels]) {
        var active: [ScrapeTarget] = [], dropped: [Labels] = []
        for d in discoveredTargets() + extra {
            guard var t = ScrapeTarget.make(discovered: d, job: name, scheme: scheme, metricsPath: metricsPath, params: params,
                                            interval: interval, timeout: timeout, relabel: relabel) else {
                dropped.append(d)
                continue
            }
            t.honorLabels = honorLabels
            t.honorTimestamps = honorTimestamps
            t.sampleLimit = sampleLimit
            t.bodySizeLimit = bodySizeLimit
            t.tls = scheme == "https" ? tls : nil
            t.labelLimit = labelLimit
            t.labelNameLengthLimit = labelNameLengthLimit
            t.labelValueLengthLimit = labelValueLengthLimit
            t.metricRelabel = metricRelabel
            if let (user, password) = basicAuth {
                t.authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
            } else if let (type, credentials) = authorization {
                t.authorization = "\(type) \(credentials)"
            }
            active.append(t)
        }
        if targetLimit > 0 && active.count > targetLimit { return ([], dropped) }
        return (active, dropped)
    }

    /// The targets of the static and file configurations (before relabeling), as label sets.
    public func discoveredTargets() -> [Labels] {
        var out: [Labels] = []
        for (targets, labels) in staticConfigs {
            for t in targets { out.append(labels.setting("__address__", to: t)) }
        }
        for (files, _) in fileSD { out.append(contentsOf: FileSD.read(files)) }
        return out
    }
}

/// A node of the YAML tree with its path, for errors that say where.
struct Node {
    let value: Any
    let path: String

    init(_ value: Any, _ path: String) {
        self.value = value
        self.path = path
    }

    func error(_ message: String) -> ConfigError { ConfigError(path: path, message: message) }

    func child(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// A mapping; with `allowed`, any other key is an error.
    func map(_ allowed: [String]?) throws(ConfigError) -> [String: Node] {
        guard let d = value as? [String: Any] else {
            if value is NSNull { return [:] }
            throw error("expected a mapping")
        }
        var out: [String: Node] = [:]
        for (k, v) in d {
            if let allowed, !allowed.contains(k) { throw ConfigError(path: child(k), message: "field \(k) not found in type") }
            out[k] = Node(v, child(k))
        }
        return out
    }

    func list() throws(ConfigError) -> [Node] {
        if value is NSNull { return [] }
        guard let a = value as? [Any] else { throw error("expected a list") }
        return a.enumerated().map { Node($0.element, path + "[\($0.offset)]") }
    }

    func string() throws(ConfigError) -> String {
        switch value {
        case let s as String: return s
        case let i as Int: return String(i)
        case let d as Double: return String(d)
        case let b as Bool: return String(b)
        default: throw error("expected a string")
        }
    }

    func bool() throws(ConfigError) -> Bool {
        guard let b = value as? Bool else { throw error("expected true or false") }
        return b
    }

    func int() throws(ConfigError) -> Int {
        guard let i = value as? Int, i >= 0 else { throw error("expected a non-negative integer") }
        return i
    }

    func duration() throws(ConfigError) -> Int64 {
        let s = try string()
        guard let d = PrometheusDuration.parse(s), d > 0 else { throw error("not a valid duration string: \"\(s)\"") }
        return d
    }

    /// `512MB`, `1GB`, plain bytes; 0 for `0`.
    func bytes() throws(ConfigError) -> Int {
        let s = try string()
        guard let n = ByteSize.parse(s) else { throw error("not a valid size: \"\(s)\"") }
        return n
    }

    func labels() throws(ConfigError) -> Labels {
        var pairs: [Label] = []
        for (k, v) in try map(nil) {
            guard isValidLabelName(k) else { throw ConfigError(path: child(k), message: "\"\(k)\" is not a valid label name") }
            pairs.append(Label(k, try v.string()))
        }
        return Labels(pairs)
    }
}
