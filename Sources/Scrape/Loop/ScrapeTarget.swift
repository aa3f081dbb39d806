import Foundation
import NIOSSL
import Storage

/// One endpoint to scrape, with what its samples get and how it is scraped.
public struct ScrapeTarget: Sendable, Hashable {
    /// Labels every sample of the target gets (job, instance and others), `__` labels gone.
    public var labels: Labels
    /// Labels before relabeling (`discoveredLabels` in /api/v1/targets).
    public var discoveredLabels: Labels
    public var url: String
    public var job: String
    /// Milliseconds.
    public var interval: Int64
    public var timeout: Int64
    public var honorLabels = false
    public var honorTimestamps = true
    /// 0: no limit.
    public var sampleLimit = 0
    /// 0: no limit.
    public var bodySizeLimit = 0
    public var metricRelabel: [RelabelConfig] = []
    /// 0: no limit.
    public var labelLimit = 0
    public var labelNameLengthLimit = 0
    public var labelValueLengthLimit = 0
    /// The three above as the store's limits type.
    var labelLimits: LabelLimits {
        LabelLimits(labels: labelLimit, nameLength: labelNameLengthLimit, valueLength: labelValueLengthLimit)
    }
    /// TLS settings for https targets (nil: the system's trust roots, verified).
    public var tls: ScrapeTLS?
    /// The credentials to send; files are read at every scrape (tokens rotate).
    public var credentials = HTTPClientSettings.Credentials.none

    public static func == (a: ScrapeTarget, b: ScrapeTarget) -> Bool {
        a.url == b.url && a.labels == b.labels && a.interval == b.interval && a.timeout == b.timeout
            && a.honorLabels == b.honorLabels && a.honorTimestamps == b.honorTimestamps && a.sampleLimit == b.sampleLimit
    }

    /// With `tls_config.server_name`, the name the request is addressed to and the host it
    /// connects to: the client resolves the name to the host, so the certificate is checked
    /// against the name and SNI carries it, as Prometheus does. Nil without a server name.
    var serverNameOverride: (name: String, host: String)? {
        guard let name = tls?.serverName, !name.isEmpty, let host = URLComponents(string: url)?.host, !host.isEmpty else { return nil }
        return (name, host)
    }

    /// The URL requested: `url`, or under the server name (see `serverNameOverride`).
    var requestURL: String {
        guard let name = serverNameOverride?.name, var c = URLComponents(string: url) else { return url }
        c.host = name
        return c.string ?? url
    }

    public func hash(into h: inout Hasher) {
        h.combine(url)
        h.combine(labels)
    }

    /// Builds a target from discovered labels as Prometheus does: job and scrape settings as
    /// `__` labels, relabeling, `instance` from `__address__`, the URL from `__scheme__`,
    /// `__address__`, `__metrics_path__` and `__param_*`. Nil when relabeling drops it.
    public static func make(discovered: Labels, job: String, scheme: String, metricsPath: String,
                            params: [String: [String]], interval: Int64, timeout: Int64,
                            relabel: [RelabelConfig]) -> ScrapeTarget? {
        var base = discovered
        let defaults: [(String, String)] = [
            ("job", job), ("__scheme__", scheme), ("__metrics_path__", metricsPath),
            ("__scrape_interval__", formatDuration(interval)), ("__scrape_timeout__", formatDuration(timeout)),
        ]
        for (name, value) in defaults where base[name] == nil { base = base.setting(name, to: value) }
        for (name, values) in params where base["__param_" + name] == nil {
            if let first = values.first { base = base.setting("__param_" + name, to: first) }
        }
        guard var labels = Relabeling.apply(base, relabel), var address = labels["__address__"], !address.isEmpty else { return nil }
        let targetScheme = labels["__scheme__"] ?? scheme
        if let port = defaultPort(address: address, scheme: targetScheme) {
            address += ":\(port)"
            labels = labels.setting("__address__", to: address)
        }
        if labels["instance"] == nil { labels = labels.setting("instance", to: address) }
        let params = labels.pairs.filter { $0.name.hasPrefix("__param_") }.map { (name: String($0.name.dropFirst(8)), value: $0.value) }
        let path = labels["__metrics_path__"] ?? metricsPath
        let url = targetScheme + "://" + address + path + (params.isEmpty ? "" : "?" + QueryEscape.query(params))
        let visible = Labels(sorted: labels.pairs.filter { !$0.name.hasPrefix("__") })
        return ScrapeTarget(labels: visible, discoveredLabels: base, url: url, job: visible["job"] ?? job,
                            interval: interval, timeout: timeout)
    }

    /// The port an address without one gets, as Prometheus adds it: 80 for http, 443 for
    /// https. Nil when the address has a port, or is a bare IPv6 address (which a port would
    /// make ambiguous).
    static func defaultPort(address: String, scheme: String) -> Int? {
        if address.hasPrefix("[") {
            guard address.hasSuffix("]") else { return nil }
        } else if address.contains(":") {
            return nil
        }
        switch scheme {
        case "http", "": return 80
        case "https": return 443
        default: return nil
        }
    }

    static func formatDuration(_ ms: Int64) -> String {
        if ms % 60_000 == 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}

/// tls_config of a scrape job.
public struct ScrapeTLS: Sendable, Hashable {
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    public var serverName: String?
    public var insecureSkipVerify = false

    public init() {}
}

extension ScrapeTLS {
    /// The NIO SSL client configuration: trust roots from ca_file, a client certificate from
    /// cert_file and key_file, no verification with insecure_skip_verify.
    public func configuration() throws -> TLSConfiguration {
        var c = TLSConfiguration.makeClientConfiguration()
        if let ca = caFile { c.trustRoots = .file(ca) }
        if let cert = certFile, let key = keyFile {
            c.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
            c.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
        }
        if insecureSkipVerify { c.certificateVerification = .none }
        return c
    }
}
