import Storage

extension K8s.Node {
    static func source(name: String) -> String { "node/\(name)" }
    var source: String { Self.source(name: metadata.name) }

    /// The address kinds in the order the node's address is chosen.
    static let addressPriority = ["InternalIP", "InternalDNS", "ExternalIP", "ExternalDNS", "LegacyHostIP", "Hostname"]

    /// Role node: one target at the node's preferred address and kubelet port, `instance` the
    /// node name. Nil when the node has no address (its earlier group stays, as in Prometheus).
    func targets() -> [Labels]? {
        var first: [String: String] = [:]
        for a in status?.addresses ?? [] where first[a.type] == nil { first[a.type] = a.address }
        guard let address = Self.addressPriority.lazy.compactMap({ first[$0] }).first else { return nil }
        var m = MetaLabels()
        m["node_name"] = metadata.name
        m["node_provider_id"] = spec?.providerID ?? ""
        m.add("node", labels: metadata.labels, annotations: metadata.annotations)
        for (type, value) in first { m["node_address_" + MetaLabels.sanitize(type)] = value }
        let port = status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0
        return [m.labels(["__address__": MetaLabels.joinHostPort(address, port), "instance": metadata.name])]
    }
}
