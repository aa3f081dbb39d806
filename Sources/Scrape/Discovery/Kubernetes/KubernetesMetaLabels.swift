import Storage

/// Prometheus' `__meta_kubernetes_*` labels, built the same way for every role: a label set
/// under construction, with the blocks several roles share (an object's labels and
/// annotations, a pod's, a service's, a node's).
struct MetaLabels {
    static let prefix = "__meta_kubernetes_"
    var values: [String: String] = [:]

    subscript(name: String) -> String? {
        get { values[Self.prefix + name] }
        set { values[Self.prefix + name] = newValue }
    }

    /// Sets `name` only when the value is there.
    mutating func set(_ name: String, _ value: String?) {
        if let value { self[name] = value }
    }

    /// Later blocks win, as Prometheus merges them.
    mutating func merge(_ other: MetaLabels) {
        values.merge(other.values) { _, new in new }
    }

    /// `<kind>_label_<name>`, `<kind>_labelpresent_<name>` and the same for annotations.
    mutating func add(_ kind: String, labels: [String: String]?, annotations: [String: String]?) {
        for (k, v) in labels ?? [:] {
            let name = Self.sanitize(k)
            self["\(kind)_label_\(name)"] = v
            self["\(kind)_labelpresent_\(name)"] = "true"
        }
        for (k, v) in annotations ?? [:] {
            let name = Self.sanitize(k)
            self["\(kind)_annotation_\(name)"] = v
            self["\(kind)_annotationpresent_\(name)"] = "true"
        }
    }

    /// The label set, with `__address__` and any other plain labels given.
    func labels(_ extra: [String: String] = [:]) -> Labels {
        Labels(values.merging(extra) { _, new in new })
    }

    /// Every character but `[a-zA-Z0-9_]` becomes `_` (one per character).
    static func sanitize(_ s: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(s.unicodeScalars.count)
        for u in s.unicodeScalars {
            let ok = (u >= "a" && u <= "z") || (u >= "A" && u <= "Z") || (u >= "0" && u <= "9") || u == "_"
            out.unicodeScalars.append(ok ? u : "_")
        }
        return out
    }

    static func joinHostPort(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    // MARK: Shared blocks

    /// A pod's own labels (without the namespace).
    static func pod(_ pod: K8s.Pod) -> MetaLabels {
        var m = MetaLabels()
        m["pod_name"] = pod.metadata.name
        m["pod_ip"] = pod.status?.podIP ?? ""
        m["pod_ready"] = readiness(pod)
        m["pod_phase"] = pod.status?.phase ?? ""
        m["pod_node_name"] = pod.spec?.nodeName ?? ""
        m["pod_host_ip"] = pod.status?.hostIP ?? ""
        m["pod_uid"] = pod.metadata.uid ?? ""
        if let owner = pod.metadata.ownerReferences?.first(where: { $0.controller == true }) {
            if !owner.kind.isEmpty { m["pod_controller_kind"] = owner.kind }
            if !owner.name.isEmpty { m["pod_controller_name"] = owner.name }
        }
        m.add("pod", labels: pod.metadata.labels, annotations: pod.metadata.annotations)
        return m
    }

    static func readiness(_ pod: K8s.Pod) -> String {
        pod.status?.conditions?.first { $0.type == "Ready" }?.status.lowercased() ?? "unknown"
    }

    /// A service's name, namespace, labels and annotations.
    static func service(_ service: K8s.Service) -> MetaLabels {
        var m = MetaLabels()
        m["service_name"] = service.metadata.name
        m["namespace"] = service.metadata.namespace ?? ""
        m.add("service", labels: service.metadata.labels, annotations: service.metadata.annotations)
        return m
    }

    /// `attach_metadata: node`: the node's name and labels.
    static func node(_ node: K8s.Node) -> MetaLabels {
        var m = MetaLabels()
        m["node_name"] = node.metadata.name
        m.add("node", labels: node.metadata.labels, annotations: nil)
        return m
    }
}
