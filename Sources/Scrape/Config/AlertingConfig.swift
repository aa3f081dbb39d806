import Foundation
import Storage

/// The configuration's `alerting` block: where alerts are sent and how they are relabeled
/// first, as Prometheus reads it.
public struct AlertingConfig: Sendable {
    /// Applied to every alert after the external labels are added; a drop keeps it unsent.
    public var alertRelabel: [RelabelConfig] = []
    public var alertmanagers: [AlertmanagerConfig] = []

    public init() {}

    static func parse(_ node: Node) throws(ConfigError) -> AlertingConfig {
        let m = try node.map(["alert_relabel_configs", "alertmanagers"])
        var config = AlertingConfig()
        for n in try m["alert_relabel_configs"]?.list() ?? [] {
            guard !(n.value is NSNull) else { throw n.error("empty or null alert relabeling rule") }
            config.alertRelabel.append(try ScrapeJob.relabelConfig(n))
        }
        config.alertmanagers = try (m["alertmanagers"]?.list() ?? []).map { (n) throws(ConfigError) in try AlertmanagerConfig.parse(n) }
        return config
    }
}

/// One `alertmanagers` entry: a set of Alertmanagers found by static and file discovery,
/// reached with the entry's scheme, path prefix, timeout, credentials and TLS.
public struct AlertmanagerConfig: Sendable {
    public var scheme = "http"
    public var pathPrefix = ""
    /// Milliseconds each POST may take.
    public var timeout: Int64 = 10_000
    /// `v2` (Alertmanager's current API) or `v1` (removed in Alertmanager 0.27).
    public var apiVersion = "v2"
    public var http = HTTPClientSettings()
    public var staticConfigs: [(targets: [String], labels: Labels)] = []
    public var fileSD: [(files: [String], refreshInterval: Int64)] = []
    /// Applied to the Alertmanagers' target labels (not to alerts).
    public var relabel: [RelabelConfig] = []

    public init() {}

    static let keys = ["scheme", "path_prefix", "timeout", "api_version", "static_configs", "file_sd_configs",
                       "relabel_configs"] + HTTPClientSettings.keys

    static func parse(_ node: Node) throws(ConfigError) -> AlertmanagerConfig {
        let m = try node.map(keys + ["kubernetes_sd_configs", "dns_sd_configs", "consul_sd_configs", "proxy_url", "oauth2", "sigv4"])
        for unsupported in ["kubernetes_sd_configs", "dns_sd_configs", "consul_sd_configs", "proxy_url", "oauth2", "sigv4"] {
            if let n = m[unsupported] { throw n.error("\(unsupported) is not supported by Sextant for Alertmanagers") }
        }
        var config = AlertmanagerConfig()
        config.scheme = try m["scheme"]?.string() ?? "http"
        guard config.scheme == "http" || config.scheme == "https" else { throw (m["scheme"] ?? node).error("unknown scheme \(config.scheme)") }
        config.pathPrefix = try m["path_prefix"]?.string() ?? ""
        config.timeout = try m["timeout"]?.duration() ?? 10_000
        config.apiVersion = try m["api_version"]?.string() ?? "v2"
        guard config.apiVersion == "v1" || config.apiVersion == "v2" else {
            throw (m["api_version"] ?? node).error("expected Alertmanager api version to be one of [v1 v2] but got \(config.apiVersion)")
        }
        config.http = try HTTPClientSettings.parse(m, node)
        config.staticConfigs = try m["static_configs"]?.staticConfigs() ?? []
        config.fileSD = try m["file_sd_configs"]?.fileSDConfigs() ?? []
        for n in try m["relabel_configs"]?.list() ?? [] {
            guard !(n.value is NSNull) else { throw n.error("empty or null Alertmanager target relabeling rule") }
            config.relabel.append(try ScrapeJob.relabelConfig(n))
        }
        if config.relabel.isEmpty {
            for target in config.staticConfigs.flatMap(\.targets) where target.contains("/") {
                throw node.error("\"\(target)\" is not a valid hostname")
            }
        }
        return config
    }

    /// Where alerts are POSTed: `/` joined with the path prefix and `/api/<version>/alerts`.
    public var alertsPath: String {
        let parts = ["", pathPrefix, "api", apiVersion, "alerts"].flatMap { $0.split(separator: "/") }
        return "/" + parts.joined(separator: "/")
    }

    /// The Alertmanagers this entry names now: static and file-discovered targets with
    /// `__scheme__` and `__alerts_path__`, through `relabel_configs`; each as its push URL.
    /// Also the label sets relabeling dropped.
    public func alertmanagers() -> (active: [String], dropped: [Labels]) {
        let discovered = staticConfigs.flatMap { c in c.targets.map { c.labels.setting("__address__", to: $0) } }
            + fileSD.flatMap { FileSD.read($0.files) }
        var active: [String] = [], dropped: [Labels] = [], seen = Set<String>()
        for d in discovered {
            let l = d.setting("__scheme__", to: d["__scheme__"] ?? scheme).setting("__alerts_path__", to: d["__alerts_path__"] ?? alertsPath)
            guard let r = Relabeling.apply(l, relabel), let address = r["__address__"], !address.isEmpty else {
                dropped.append(d)
                continue
            }
            let url = "\(r["__scheme__"] ?? scheme)://\(address)\(r["__alerts_path__"] ?? alertsPath)"
            if seen.insert(url).inserted { active.append(url) }
        }
        return (active, dropped)
    }
}
