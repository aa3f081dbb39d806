import Storage

extension K8s.Ingress {
    static func source(namespace: String?, name: String) -> String { "ingress/\(namespace ?? "")/\(name)" }
    var source: String { Self.source(namespace: metadata.namespace, name: metadata.name) }

    /// Role ingress: a target per rule and path at the rule's host (no port: the scrape adds
    /// the scheme's default), `https` when a TLS entry covers the host.
    func targets() -> [Labels] {
        var group = MetaLabels()
        group["ingress_name"] = metadata.name
        group["namespace"] = metadata.namespace ?? ""
        group.set("ingress_class_name", spec?.ingressClassName)
        group.add("ingress", labels: metadata.labels, annotations: metadata.annotations)
        let tlsHosts = (spec?.tls ?? []).flatMap { $0.hosts ?? [] }
        var out: [Labels] = []
        for rule in spec?.rules ?? [] {
            let host = rule.host ?? ""
            let paths = rule.http.map { ($0.paths ?? []).map { p in p.path.flatMap { $0.isEmpty ? nil : $0 } ?? "/" } } ?? ["/"]
            var m = group
            m["ingress_scheme"] = tlsHosts.contains { Self.matches(pattern: $0, host: host) } ? "https" : "http"
            m["ingress_host"] = host
            for path in paths {
                var pm = m
                pm["ingress_path"] = path
                out.append(pm.labels(["__address__": host]))
            }
        }
        return out
    }

    /// A TLS host pattern covers a host: equal, or `*.` and the same labels after the first.
    static func matches(pattern: String, host: String) -> Bool {
        if pattern == host { return true }
        let p = pattern.split(separator: ".", omittingEmptySubsequences: false)
        let h = host.split(separator: ".", omittingEmptySubsequences: false)
        return p.first == "*" && p.count == h.count && p.dropFirst().elementsEqual(h.dropFirst())
    }
}
