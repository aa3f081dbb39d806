import Foundation
import Storage
import Yams

/// A configuration error, with the path of the offending key (`scrape_configs[0].scrape_interval`).
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let message: String
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
}

/// Prometheus' configuration file, the scrape part: global settings and scrape jobs.
public struct PrometheusConfig: Sendable {
    public var scrapeInterval: Int64 = 60_000
    public var scrapeTimeout: Int64 = 10_000
    public var externalLabels = Labels.empty
    public var jobs: [ScrapeJob] = []
    public var remoteWrite: [RemoteWriteConfig] = []
    public var remoteRead: [RemoteReadConfig] = []
    /// `global.evaluation_interval`: how often rule groups without their own interval run.
    public var evaluationInterval: Int64 = 60_000
    /// `rule_files`: paths and patterns (`*` in the last element), relative ones resolved
    /// against the configuration file's directory by `load(file:)`.
    public var ruleFiles: [String] = []
    /// `alerting`: Alertmanagers and the relabeling of alerts sent to them.
    public var alerting = AlertingConfig()

    public init() {}

    /// The rule files the patterns name now, in order.
    public func ruleFilePaths() -> [String] { ruleFiles.flatMap(FileSD.expand) }

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
            config.evaluationInterval = try global["evaluation_interval"]?.duration() ?? config.evaluationInterval
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
        var queueNames = Set<String>()
        for (i, node) in try (top["remote_write"]?.list() ?? []).enumerated() {
            let remote = try RemoteWriteConfig.parse(node)
            guard queueNames.insert(remote.name).inserted else {
                throw ConfigError(path: "remote_write[\(i)]", message: "found multiple remote write configs with name \"\(remote.name)\"")
            }
            config.remoteWrite.append(remote)
        }
        config.remoteRead = try (top["remote_read"]?.list() ?? []).map { (n) throws(ConfigError) in try RemoteReadConfig.parse(n) }
        if let a = top["alerting"] { config.alerting = try AlertingConfig.parse(a) }
        for node in try top["rule_files"]?.list() ?? [] {
            let pattern = try node.string()
            guard !pattern.isEmpty else { throw node.error("empty rule file path") }
            config.ruleFiles.append(pattern)
        }
        return config
    }

    public static func load(file: String) throws(ConfigError) -> PrometheusConfig {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw ConfigError(path: "", message: "cannot read \(file): \(error.localizedDescription)")
        }
        var config = try parse(text)
        let dir = (file as NSString).deletingLastPathComponent
        config.ruleFiles = config.ruleFiles.map { $0.hasPrefix("/") || dir.isEmpty ? $0 : dir + "/" + $0 }
        return config
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
    /// Credentials, TLS and redirects for the scrape requests.
    public var http = HTTPClientSettings()
    public var tls: ScrapeTLS { http.tls }
    public var staticConfigs: [(targets: [String], labels: Labels)] = []
    public var fileSD: [(files: [String], refreshInterval: Int64)] = []
    public var kubernetesSD: [KubernetesSDConfig] = []
    public var relabel: [RelabelConfig] = []
    public var metricRelabel: [RelabelConfig] = []

    static let keys = ["job_name", "scrape_interval", "scrape_timeout", "metrics_path", "scheme", "params", "honor_labels",
                       "honor_timestamps", "sample_limit", "label_limit", "label_name_length_limit", "label_value_length_limit",
                       "target_limit", "body_size_limit", "static_configs", "file_sd_configs", "kubernetes_sd_configs", "relabel_configs",
                       "metric_relabel_configs"] + HTTPClientSettings.keys

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
        job.http = try HTTPClientSettings.parse(m, node)
        job.staticConfigs = try m["static_configs"]?.staticConfigs() ?? []
        job.fileSD = try m["file_sd_configs"]?.fileSDConfigs() ?? []
        for k in try m["kubernetes_sd_configs"]?.list() ?? [] { job.kubernetesSD.append(try KubernetesSDConfig.parse(k)) }
        job.relabel = try (m["relabel_configs"]?.list() ?? []).map { (n) throws(ConfigError) in try relabelConfig(n) }
        job.metricRelabel = try (m["metric_relabel_configs"]?.list() ?? []).map { (n) throws(ConfigError) in try relabelConfig(n) }
        return job
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
    /// label sets relabeling dropped. Over the target limit, no target is active.
    public func targets(extra: [Labels] = []) -> (active: [ScrapeTarget], dropped: [Labels]) {
        let r = relabeled(discoveredTargets() + extra)
        if targetLimit > 0 && r.active.count > targetLimit { return ([], r.dropped) }
        return r
    }

    /// Discovered label sets through this job's relabeling, with its scrape settings.
    public func relabeled(_ discovered: [Labels]) -> (active: [ScrapeTarget], dropped: [Labels]) {
        var active: [ScrapeTarget] = [], dropped: [Labels] = []
        for d in discovered {
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
            t.credentials = http.credentials
            active.append(t)
        }
        return (active, dropped)
    }

    /// The static targets, one group per `static_configs` entry.
    public var staticGroups: [TargetGroup] {
        staticConfigs.enumerated().map { i, config in
            TargetGroup(source: String(i), targets: config.targets.map { config.labels.setting("__address__", to: $0) })
        }
    }

    /// The targets of the static and file configurations (before relabeling), as label sets.
    public func discoveredTargets() -> [Labels] {
        staticGroups.flatMap(\.targets) + fileSD.flatMap { FileSD.read($0.files) }
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

    /// `static_configs`: each entry's targets and labels.
    func staticConfigs() throws(ConfigError) -> [(targets: [String], labels: Labels)] {
        try list().map { (s) throws(ConfigError) in
            let sm = try s.map(["targets", "labels"])
            let targets = try (sm["targets"]?.list() ?? []).map { (x) throws(ConfigError) in try x.string() }
            return (targets, try sm["labels"]?.labels() ?? .empty)
        }
    }

    /// `file_sd_configs`: each entry's file patterns and refresh interval (default 5m).
    func fileSDConfigs() throws(ConfigError) -> [(files: [String], refreshInterval: Int64)] {
        try list().map { (f) throws(ConfigError) in
            let fm = try f.map(["files", "refresh_interval"])
            let files = try (fm["files"]?.list() ?? []).map { (x) throws(ConfigError) in try x.string() }
            return (files, try fm["refresh_interval"]?.duration() ?? 300_000)
        }
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
