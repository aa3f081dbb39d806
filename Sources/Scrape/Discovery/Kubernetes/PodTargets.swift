import Storage

extension K8s.Pod {
    static func source(namespace: String?, name: String) -> String { "pod/\(namespace ?? "")/\(name)" }
    var source: String { Self.source(namespace: metadata.namespace, name: metadata.name) }

    /// Role pod: a target per declared container port (init containers too), one at the pod
    /// IP for a container without ports; nothing while the pod has no IP.
    func targets(node: K8s.Node?) -> [Labels] {
        guard let ip = status?.podIP, !ip.isEmpty else { return [] }
        var group = MetaLabels.pod(self)
        group["namespace"] = metadata.namespace ?? ""
        if let node { group.merge(.node(node)) }
        let containers = (spec?.containers ?? []).map { ($0, false) } + (spec?.initContainers ?? []).map { ($0, true) }
        var out: [Labels] = []
        for (c, isInit) in containers {
            var m = group
            m["pod_container_name"] = c.name
            m["pod_container_id"] = containerID(c.name, isInit: isInit)
            m["pod_container_image"] = c.image ?? ""
            m["pod_container_init"] = String(isInit)
            guard let ports = c.ports, !ports.isEmpty else {
                out.append(m.labels(["__address__": ip]))
                continue
            }
            for p in ports {
                var pm = m
                pm["pod_container_port_name"] = p.name ?? ""
                pm["pod_container_port_number"] = String(p.containerPort)
                pm["pod_container_port_protocol"] = p.protocol ?? "TCP"
                out.append(pm.labels(["__address__": MetaLabels.joinHostPort(ip, p.containerPort)]))
            }
        }
        return out
    }

    /// `<runtime>://<id>` of a container from the pod's status, "" when not reported.
    func containerID(_ name: String, isInit: Bool) -> String {
        let statuses = isInit ? status?.initContainerStatuses : status?.containerStatuses
        return statuses?.first { $0.name == name }?.containerID ?? ""
    }
}
