import Foundation
import Logging

/// Kubernetes discovery for one `kubernetes_sd_configs` entry: its own API client (its own
/// credentials and TLS, never the scrape job's), one informer per resource and namespace the
/// role needs, and the groups of the objects each event touches.
struct KubernetesDiscovery: DiscoveryProvider {
    let config: KubernetesSDConfig
    let timing: InformerTiming
    let logger: Logger
    var environment = ProcessInfo.processInfo.environment
    var serviceAccount = KubernetesConnection.serviceAccountDirectory

    func run(_ send: @escaping @Sendable ([TargetGroup]) -> Void) async {
        let connection: KubernetesConnection
        let api: KubernetesAPIClient
        do {
            connection = try KubernetesConnection.resolve(config, environment: environment, serviceAccount: serviceAccount)
            api = try KubernetesAPIClient(connection: connection)
        } catch {
            logger.error("kubernetes discovery (role \(config.role.rawValue)): \(error); discovery is off until the configuration changes")
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            return
        }
        let targets = KubernetesTargets(role: config.role, attachNode: config.attachNodeMetadata, send: send)
        await withTaskGroup(of: Void.self) { group in
            for namespace in namespaces(own: connection.ownNamespace) {
                for resource in resources {
                    guard resource.isNamespaced || namespace == nil else { continue }
                    group.addTask { await inform(resource, namespace: namespace, api: api, into: targets) }
                }
            }
            if config.attachNodeMetadata && [.pod, .endpoints, .endpointslice].contains(config.role) {
                group.addTask { await inform(.nodes, namespace: nil, api: api, into: targets) }
            }
        }
        await api.shutdown()
    }

    /// The namespaces to watch: the names given and the own one; nil alone for all.
    func namespaces(own: String?) -> [String?] {
        var names = config.namespaces
        if config.ownNamespace {
            if let own { names.append(own) } else { logger.error("kubernetes discovery: own_namespace, but the own namespace is unknown") }
        }
        return names.isEmpty ? [nil] : Array(Set(names)).sorted()
    }

    /// The resources the role reads in each namespace (nodes are cluster-wide).
    var resources: [KubernetesResource] {
        switch config.role {
        case .pod: return [.pods]
        case .node: return [.nodes]
        case .service: return [.services]
        case .ingress: return [.ingresses]
        case .endpoints: return [.endpoints, .services, .pods]
        case .endpointslice: return [.endpointSlices, .services, .pods]
        }
    }

    func inform(_ resource: KubernetesResource, namespace: String?, api: KubernetesAPIClient, into targets: KubernetesTargets) async {
        func informer<O: KubernetesObject>(_ type: O.Type, _ role: KubernetesSDConfig.Role) -> KubernetesInformer<O> {
            KubernetesInformer(api: api, resource: resource, namespace: namespace, selector: config.selector(for: role),
                               timing: timing, logger: logger)
        }
        switch resource {
        case .pods: await informer(K8s.Pod.self, .pod).run { targets.pods($0, namespace: namespace) }
        case .nodes: await informer(K8s.Node.self, .node).run { targets.nodes($0) }
        case .services: await informer(K8s.Service.self, .service).run { targets.services($0, namespace: namespace) }
        case .endpoints: await informer(K8s.Endpoints.self, .endpoints).run { targets.endpoints($0, namespace: namespace) }
        case .endpointSlices: await informer(K8s.EndpointSlice.self, .endpointslice).run { targets.endpointSlices($0, namespace: namespace) }
        case .ingresses: await informer(K8s.Ingress.self, .ingress).run { targets.ingresses($0, namespace: namespace) }
        default: return
        }
    }
}
