import Storage

extension K8s.Service {
    static func source(namespace: String?, name: String) -> String { "svc/\(namespace ?? "")/\(name)" }
    var source: String { Self.source(namespace: metadata.namespace, name: metadata.name) }

    /// Role service: a target per service port at `<name>.<namespace>.svc:<port>`.
    func targets() -> [Labels] {
        var group = MetaLabels.service(self)
        let type = spec?.type ?? ""
        group["service_type"] = type
        if type == "ExternalName" {
            group["service_external_name"] = spec?.externalName ?? ""
        } else {
            group["service_cluster_ip"] = spec?.clusterIP ?? ""
        }
        if type == "LoadBalancer" { group["service_loadbalancer_ip"] = spec?.loadBalancerIP ?? "" }
        let host = "\(metadata.name).\(metadata.namespace ?? "").svc"
        return (spec?.ports ?? []).map { p in
            var m = group
            m["service_port_name"] = p.name ?? ""
            m["service_port_number"] = String(p.port)
            m["service_port_protocol"] = p.protocol ?? "TCP"
            return m.labels(["__address__": MetaLabels.joinHostPort(host, p.port)])
        }
    }
}
