import Storage

extension ObjectReference {
    /// `namespace/name` of the pod this refers to (the referrer's namespace by default); nil
    /// for other kinds.
    func podKey(namespace: String) -> String? {
        guard kind == "Pod", let name else { return nil }
        return (self.namespace ?? namespace) + "/" + name
    }
}

/// What the endpoints and endpointslice roles need besides the object: the service of the
/// same name and the pods that endpoints point at, from their informers' stores.
struct EndpointContext {
    var service: (_ namespace: String, _ name: String) -> K8s.Service?
    var pod: (_ key: String) -> K8s.Pod?
    var node: (_ name: String) -> K8s.Node?
}

/// The pods met while building one endpoints object's targets, and the ports they were met
/// on: each pod's other container ports become targets too.
struct EndpointPods {
    var seen: [String: (pod: K8s.Pod, ports: Set<Int>)] = [:]

    /// Pod labels for an endpoint that refers to a pod, and its container's labels for the
    /// container port with the endpoint's number (the last such container wins).
    mutating func decorate(_ m: inout MetaLabels, ref: ObjectReference?, namespace: String, port: Int?,
                           endpointProtocol: String?, context: EndpointContext) {
        guard let key = ref?.podKey(namespace: namespace), let pod = context.pod(key) else { return }
        m.merge(.pod(pod))
        var entry = seen[key] ?? (pod, [])
        guard let port else {
            seen[key] = entry
            return
        }
        entry.ports.insert(port)
        seen[key] = entry
        for c in pod.spec?.containers ?? [] {
            guard let cp = c.ports?.first(where: { $0.containerPort == port }) else { continue }
            m.setContainer(c, port: cp, protocol: endpointProtocol)
        }
    }

    /// Targets for the container ports of seen pods that no endpoint covered.
    func extraTargets(group: MetaLabels) -> [Labels] {
        var out: [Labels] = []
        for key in seen.keys.sorted() {
            guard let (pod, ports) = seen[key] else { continue }
            let ip = pod.status?.podIP ?? ""
            var base = group
            base.merge(.pod(pod))
            for c in pod.spec?.containers ?? [] {
                for cp in c.ports ?? [] where !ports.contains(cp.containerPort) {
                    var m = base
                    m.setContainer(c, port: cp)
                    out.append(m.labels(["__address__": MetaLabels.joinHostPort(ip, cp.containerPort)]))
                }
            }
        }
        return out
    }
}

extension K8s.Endpoints {
    static func source(namespace: String?, name: String) -> String { "endpoints/\(namespace ?? "")/\(name)" }
    var source: String { Self.source(namespace: metadata.namespace, name: metadata.name) }

    /// Pods the addresses refer to (keys `namespace/name`), ready or not.
    var podKeys: Set<String> {
        let refs = (subsets ?? []).flatMap { ($0.addresses ?? []) + ($0.notReadyAddresses ?? []) }.map(\.targetRef)
        return Set(refs.compactMap { $0?.podKey(namespace: metadata.namespace ?? "") })
    }

    /// Role endpoints: a target per port and address (ready ones, then not-ready ones), with
    /// the service's and the pod's labels, then the pods' uncovered container ports.
    func targets(_ context: EndpointContext, attachNode: Bool) -> [Labels] {
        let namespace = metadata.namespace ?? ""
        var group = MetaLabels()
        group["namespace"] = namespace
        group["endpoints_name"] = metadata.name
        if let service = context.service(namespace, metadata.name) { group.merge(.service(service)) }
        group.add("endpoints", labels: metadata.labels, annotations: nil)
        var pods = EndpointPods()
        var out: [Labels] = []
        for subset in subsets ?? [] {
            for port in subset.ports ?? [] {
                let addresses = (subset.addresses ?? []).map { ($0, true) } + (subset.notReadyAddresses ?? []).map { ($0, false) }
                for (address, ready) in addresses {
                    var m = group
                    m["endpoint_port_name"] = port.name ?? ""
                    m["endpoint_port_protocol"] = port.protocol ?? "TCP"
                    m["endpoint_ready"] = String(ready)
                    if let ref = address.targetRef {
                        m["endpoint_address_target_kind"] = ref.kind ?? ""
                        m["endpoint_address_target_name"] = ref.name ?? ""
                    }
                    m.set("endpoint_node_name", address.nodeName)
                    if let h = address.hostname, !h.isEmpty { m["endpoint_hostname"] = h }
                    if attachNode, let n = address.nodeName, let node = context.node(n) { m.merge(.node(node)) }
                    pods.decorate(&m, ref: address.targetRef, namespace: namespace, port: port.port,
                                  endpointProtocol: port.protocol ?? "TCP", context: context)
                    out.append(m.labels(["__address__": MetaLabels.joinHostPort(address.ip, port.port)]))
                }
            }
        }
        return out + pods.extraTargets(group: group)
    }
}

extension K8s.EndpointSlice {
    static func source(namespace: String?, name: String) -> String { "endpointslice/\(namespace ?? "")/\(name)" }
    var source: String { Self.source(namespace: metadata.namespace, name: metadata.name) }

    static let serviceNameLabel = "kubernetes.io/service-name"
    var serviceName: String? { metadata.labels?[Self.serviceNameLabel] }

    var podKeys: Set<String> {
        Set((endpoints ?? []).compactMap { $0.targetRef?.podKey(namespace: metadata.namespace ?? "") })
    }

    /// Role endpointslice: a target per endpoint, port and address, whatever the endpoint's
    /// conditions (they are labels), with the service's and the pod's labels, then the pods'
    /// uncovered container ports.
    func targets(_ context: EndpointContext, attachNode: Bool) -> [Labels] {
        let namespace = metadata.namespace ?? ""
        var group = MetaLabels()
        group["namespace"] = namespace
        group["endpointslice_name"] = metadata.name
        group["endpointslice_address_type"] = addressType ?? ""
        if let name = serviceName, let service = context.service(namespace, name) { group.merge(.service(service)) }
        var pods = EndpointPods()
        var out: [Labels] = []
        for e in endpoints ?? [] {
            for port in ports ?? [] {
                for address in e.addresses {
                    var m = group
                    m.set("endpointslice_port_name", port.name)
                    m.set("endpointslice_port_protocol", port.protocol)
                    m.set("endpointslice_port", port.port.map(String.init))
                    m.set("endpointslice_port_app_protocol", port.appProtocol)
                    m.set("endpointslice_endpoint_conditions_ready", e.conditions?.ready.map(String.init))
                    m.set("endpointslice_endpoint_conditions_serving", e.conditions?.serving.map(String.init))
                    m.set("endpointslice_endpoint_conditions_terminating", e.conditions?.terminating.map(String.init))
                    m.set("endpointslice_endpoint_hostname", e.hostname)
                    if let ref = e.targetRef {
                        m["endpointslice_address_target_kind"] = ref.kind ?? ""
                        m["endpointslice_address_target_name"] = ref.name ?? ""
                    }
                    for (k, v) in e.deprecatedTopology ?? [:] {
                        m["endpointslice_endpoint_topology_" + MetaLabels.sanitize(k)] = v
                        m["endpointslice_endpoint_topology_present_" + MetaLabels.sanitize(k)] = "true"
                    }
                    if attachNode, let n = e.nodeName, let node = context.node(n) { m.merge(.node(node)) }
                    pods.decorate(&m, ref: e.targetRef, namespace: namespace, port: port.port, endpointProtocol: nil, context: context)
                    let address = port.port.map { MetaLabels.joinHostPort(address, $0) } ?? address
                    out.append(m.labels(["__address__": address]))
                }
            }
        }
        return out + pods.extraTargets(group: group)
    }
}
