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
                pm.setContainer(c, port: p)
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

extension MetaLabels {
    /// A container's name and image and one of its ports (`pod_container_*`), as the pod,
    /// endpoints and endpointslice roles set them; `protocol` (an endpoint's) overrides the
    /// port's own, which defaults to TCP.
    mutating func setContainer(_ c: K8s.Pod.Container, port: K8s.Pod.ContainerPort, protocol proto: String? = nil) {
        self["pod_container_name"] = c.name
        self["pod_container_image"] = c.image ?? ""
        self["pod_container_port_name"] = port.name ?? ""
        self["pod_container_port_number"] = String(port.containerPort)
        self["pod_container_port_protocol"] = proto ?? port.protocol ?? "TCP"
    }
}
