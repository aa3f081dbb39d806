import Synchronization
import Storage

/// The objects one Kubernetes discovery knows, and the target groups they make. Each informer
/// event updates its store and rebuilds the groups of the objects it touches: the object
/// itself when it is of the role's kind, and the role's objects that refer to it otherwise
/// (the endpoints of a service or a pod, the pods or endpoints on a node), found through
/// indexes, so the work follows the change and not the cluster's size. Groups are sent while
/// the state is locked, so they arrive in the order the events happened.
final class KubernetesTargets: Sendable {
    typealias Role = KubernetesSDConfig.Role
    let role: Role
    let attachNode: Bool
    let send: @Sendable ([TargetGroup]) -> Void

    /// What a role object refers to, for the indexes.
    struct Refs: Equatable {
        var node: Set<String> = []
        var pods: Set<String> = []
        var service: String?
    }

    struct State {
        var pods = ObjectStore<K8s.Pod>()
        var nodes = ObjectStore<K8s.Node>()
        var services = ObjectStore<K8s.Service>()
        var endpoints = ObjectStore<K8s.Endpoints>()
        var slices = ObjectStore<K8s.EndpointSlice>()
        var ingresses = ObjectStore<K8s.Ingress>()
        /// Role objects by what they refer to: node name, pod key, service key.
        var byNode: [String: Set<String>] = [:]
        var byPod: [String: Set<String>] = [:]
        var byService: [String: Set<String>] = [:]
        var refs: [String: Refs] = [:]
    }

    let state = Mutex(State())

    init(role: Role, attachNode: Bool, send: @escaping @Sendable ([TargetGroup]) -> Void) {
        self.role = role
        self.attachNode = attachNode
        self.send = send
    }

    // MARK: Events

    func pods(_ event: InformerEvent<K8s.Pod>, namespace: String?) {
        update { s in
            let (changed, removed) = s.pods.apply(event, namespace: namespace)
            let keys = (changed + removed).map(\.key)
            return role == .pod ? keys : keys.flatMap { s.byPod[$0] ?? [] }
        }
    }

    func nodes(_ event: InformerEvent<K8s.Node>) {
        update { s in
            let (changed, removed) = s.nodes.apply(event, namespace: nil)
            let keys = (changed + removed).map(\.key)
            return role == .node ? keys : keys.flatMap { s.byNode[$0] ?? [] }
        }
    }

    func services(_ event: InformerEvent<K8s.Service>, namespace: String?) {
        update { s in
            let (changed, removed) = s.services.apply(event, namespace: namespace)
            let keys = (changed + removed).map(\.key)
            switch role {
            case .service: return keys
            case .endpoints: return keys.filter { s.endpoints[$0] != nil }
            default: return keys.flatMap { s.byService[$0] ?? [] }
            }
        }
    }

    func endpoints(_ event: InformerEvent<K8s.Endpoints>, namespace: String?) {
        update { s in
            let (changed, removed) = s.endpoints.apply(event, namespace: namespace)
            return (changed + removed).map(\.key)
        }
    }

    func endpointSlices(_ event: InformerEvent<K8s.EndpointSlice>, namespace: String?) {
        update { s in
            let (changed, removed) = s.slices.apply(event, namespace: namespace)
            return (changed + removed).map(\.key)
        }
    }

    func ingresses(_ event: InformerEvent<K8s.Ingress>, namespace: String?) {
        update { s in
            let (changed, removed) = s.ingresses.apply(event, namespace: namespace)
            return (changed + removed).map(\.key)
        }
    }

    /// Applies a change (which returns the keys of the role objects it touches), rebuilds
    /// their groups and indexes, and sends the groups.
    private func update(_ change: (inout State) -> [String]) {
        state.withLock { s in
            var seen = Set<String>()
            var groups: [TargetGroup] = []
            for key in change(&s) where seen.insert(key).inserted {
                reindex(key, &s)
                if let g = group(key, s) { groups.append(g) }
            }
            if !groups.isEmpty { send(groups) }
        }
    }

    // MARK: Groups

    /// The group of the role object with this key; empty when it is gone; nil when it must
    /// not change (a node without an address).
    func group(_ key: String, _ s: State) -> TargetGroup? {
        switch role {
        case .pod:
            let pod = s.pods[key]
            let node = attachNode ? pod?.spec?.nodeName.flatMap { s.nodes[$0] } : nil
            return TargetGroup(source: "pod/" + key, targets: pod?.targets(node: node) ?? [])
        case .node:
            guard let node = s.nodes[key] else { return TargetGroup(source: "node/" + key, targets: []) }
            return node.targets().map { TargetGroup(source: node.source, targets: $0) }
        case .service:
            return TargetGroup(source: "svc/" + key, targets: s.services[key]?.targets() ?? [])
        case .ingress:
            return TargetGroup(source: "ingress/" + key, targets: s.ingresses[key]?.targets() ?? [])
        case .endpoints:
            return TargetGroup(source: "endpoints/" + key, targets: s.endpoints[key]?.targets(context(s), attachNode: attachNode) ?? [])
        case .endpointslice:
            return TargetGroup(source: "endpointslice/" + key, targets: s.slices[key]?.targets(context(s), attachNode: attachNode) ?? [])
        }
    }

    func context(_ s: State) -> EndpointContext {
        EndpointContext(service: { ns, name in s.services[ns + "/" + name] }, pod: { s.pods[$0] }, node: { s.nodes[$0] })
    }

    // MARK: Indexes

    /// What the role object `key` refers to now.
    func refs(_ key: String, _ s: State) -> Refs {
        var r = Refs()
        switch role {
        case .pod:
            if attachNode, let n = s.pods[key]?.spec?.nodeName { r.node = [n] }
        case .endpoints:
            guard let e = s.endpoints[key] else { break }
            r.pods = e.podKeys
            if attachNode {
                for subset in e.subsets ?? [] { r.node.formUnion((subset.addresses ?? []).compactMap(\.nodeName)) }
            }
        case .endpointslice:
            guard let e = s.slices[key] else { break }
            r.pods = e.podKeys
            if let name = e.serviceName { r.service = (e.metadata.namespace ?? "") + "/" + name }
            if attachNode { r.node = Set((e.endpoints ?? []).compactMap(\.nodeName)) }
        default:
            break
        }
        return r
    }

    func reindex(_ key: String, _ s: inout State) {
        let new = refs(key, s)
        let old = s.refs[key] ?? Refs()
        guard new != old else { return }
        for n in old.node.subtracting(new.node) { s.byNode[n]?.remove(key) }
        for n in new.node.subtracting(old.node) { s.byNode[n, default: []].insert(key) }
        for p in old.pods.subtracting(new.pods) { s.byPod[p]?.remove(key) }
        for p in new.pods.subtracting(old.pods) { s.byPod[p, default: []].insert(key) }
        if old.service != new.service {
            if let o = old.service { s.byService[o]?.remove(key) }
            if let n = new.service { s.byService[n, default: []].insert(key) }
        }
        s.refs[key] = new == Refs() ? nil : new
    }
}
