import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import TSDB

/// Kubernetes pod discovery (role: pod): lists pods, then watches from the list's
/// resourceVersion; reconnects when a watch ends and lists again after 410 Gone. Every pod
/// yields a target per declared container port (a port-less one per container without ports)
/// with Prometheus' `__meta_kubernetes_*` labels.
public final class KubernetesPodDiscovery: Sendable {
    public struct Endpoint: Sendable {
        public var apiServer: String
        public var authorization: String?
        public var namespaces: [String]
        public var labelSelector: String?
        public var fieldSelector: String?
    }

    let endpoint: Endpoint
    let client: HTTPClient
    let logger: Logger
    let onUpdate: @Sendable ([Labels]) -> Void
    /// Targets by pod (namespace/name).
    let pods = Locked<[String: [Labels]]>([:])

    public init(endpoint: Endpoint, client: HTTPClient, logger: Logger, onUpdate: @escaping @Sendable ([Labels]) -> Void) {
        self.endpoint = endpoint
        self.client = client
        self.logger = logger
        self.onUpdate = onUpdate
    }

    /// The endpoint from configuration: the given api_server, or in-cluster settings
    /// (KUBERNETES_SERVICE_HOST/PORT and the service account token and namespace).
    public static func endpoint(for c: KubernetesSDConfig, authorization: String?,
                                environment: [String: String] = ProcessInfo.processInfo.environment,
                                serviceAccount: String = "/var/run/secrets/kubernetes.io/serviceaccount") -> Endpoint? {
        var server = c.apiServer
        var auth = authorization
        if server == nil {
            guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"] else { return nil }
            server = "https://\(host.contains(":") ? "[\(host)]" : host):\(port)"
            if auth == nil, let token = try? String(contentsOfFile: serviceAccount + "/token", encoding: .utf8) {
                auth = "Bearer " + token.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        var namespaces = c.namespaces
        if c.ownNamespace, let ns = try? String(contentsOfFile: serviceAccount + "/namespace", encoding: .utf8) {
            namespaces.append(ns.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard let server else { return nil }
        return Endpoint(apiServer: server, authorization: auth, namespaces: namespaces,
                        labelSelector: c.labelSelector, fieldSelector: c.fieldSelector)
    }

    /// Discovers until cancelled.
    public func run() async {
        let scopes: [String?] = endpoint.namespaces.isEmpty ? [nil] : endpoint.namespaces
        await withTaskGroup(of: Void.self) { group in
            for ns in scopes { group.addTask { await self.discover(namespace: ns) } }
        }
    }

    func path(_ namespace: String?) -> String {
        (namespace.map { "/api/v1/namespaces/\($0)/pods" } ?? "/api/v1/pods")
    }

    func url(_ namespace: String?, extra: [(String, String)]) -> String {
        var query: [(String, String)] = extra
        if let l = endpoint.labelSelector { query.append(("labelSelector", l)) }
        if let f = endpoint.fieldSelector { query.append(("fieldSelector", f)) }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let q = query.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }.joined(separator: "&")
        return endpoint.apiServer + path(namespace) + (q.isEmpty ? "" : "?" + q)
    }

    func discover(namespace: String?) async {
        while !Task.isCancelled {
            do {
                let version = try await list(namespace: namespace)
                var resume = version
                // Watch until the server says the version is gone; a closed stream reconnects.
                while !Task.isCancelled {
                    guard let next = try await watch(namespace: namespace, from: resume) else { break }   // 410: list again
                    resume = next
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("kubernetes pod discovery: \(error)")
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    func request(_ url: String) -> HTTPClientRequest {
        var r = HTTPClientRequest(url: url)
        r.headers.add(name: "Accept", value: "application/json")
        if let a = endpoint.authorization { r.headers.add(name: "Authorization", value: a) }
        return r
    }

    struct APIError: Error, CustomStringConvertible { let description: String }

    /// Lists the pods, replaces what the scope knew, and returns the list's resourceVersion.
    func list(namespace: String?) async throws -> String {
        let response = try await client.execute(request(url(namespace, extra: [])), timeout: .seconds(30))
        guard response.status == .ok else { throw APIError(description: "list pods: HTTP \(response.status)") }
        let body = try await response.body.collect(upTo: 256 << 20)
        let list = try JSONDecoder().decode(PodList.self, from: Data(body.readableBytesView))
        let scope = namespace.map { $0 + "/" } ?? ""
        pods.withLock { p in
            // A fresh list replaces what this scope knew (everything for the cluster scope).
            p = scope.isEmpty ? [:] : p.filter { !$0.key.hasPrefix(scope) }
            for pod in list.items { p[Self.key(pod)] = Self.targets(for: pod) }
        }
        publish()
        return list.metadata?.resourceVersion ?? ""
    }

    /// Follows a watch stream; returns the last resourceVersion seen, or nil after 410 Gone.
    func watch(namespace: String?, from version: String) async throws -> String? {
        let extra = [("watch", "1"), ("resourceVersion", version), ("allowWatchBookmarks", "true")]
        let response = try await client.execute(request(url(namespace, extra: extra)), timeout: .seconds(3600))
        if response.status == .gone { return nil }
        guard response.status == .ok else { throw APIError(description: "watch pods: HTTP \(response.status)") }
        var last = version
        var carry: [UInt8] = []
        for try await chunk in response.body {
            carry.append(contentsOf: chunk.readableBytesView)
            while let nl = carry.firstIndex(of: 10) {
                let line = Data(carry[..<nl])
                carry.removeSubrange(...nl)
                guard !line.isEmpty else { continue }
                let event = try JSONDecoder().decode(WatchEvent.self, from: line)
                switch event.type {
                case "ERROR":
                    let code = (try? JSONDecoder().decode(WatchError.self, from: line))?.object?.code
                    if code == 410 { return nil }
                    throw APIError(description: "watch error \(code ?? 0)")
                case "ADDED", "MODIFIED":
                    if let pod = event.object {
                        pods.withLock { $0[Self.key(pod)] = Self.targets(for: pod) }
                        publish()
                    }
                case "DELETED":
                    if let pod = event.object {
                        pods.withLock { $0[Self.key(pod)] = nil }
                        publish()
                    }
                default: break
                }
                if let v = event.object?.metadata.resourceVersion { last = v }
            }
        }
        return last
    }

    func publish() {
        let all = pods.withLock { p in p.keys.sorted().flatMap { key in p[key] ?? [] } }
        onUpdate(all)
    }

    static func key(_ pod: Pod) -> String { (pod.metadata.namespace ?? "") + "/" + pod.metadata.name }

    /// Prometheus' targets and meta labels of one pod.
    static func targets(for pod: Pod) -> [Labels] {
        guard let ip = pod.status?.podIP, !ip.isEmpty else { return [] }
        var base: [String: String] = [
            "__meta_kubernetes_namespace": pod.metadata.namespace ?? "",
            "__meta_kubernetes_pod_name": pod.metadata.name,
            "__meta_kubernetes_pod_ip": ip,
            "__meta_kubernetes_pod_uid": pod.metadata.uid ?? "",
            "__meta_kubernetes_pod_node_name": pod.spec?.nodeName ?? "",
            "__meta_kubernetes_pod_host_ip": pod.status?.hostIP ?? "",
            "__meta_kubernetes_pod_phase": pod.status?.phase ?? "",
            "__meta_kubernetes_pod_ready": readiness(pod),
        ]
        for (k, v) in pod.metadata.labels ?? [:] {
            base["__meta_kubernetes_pod_label_" + sanitize(k)] = v
            base["__meta_kubernetes_pod_labelpresent_" + sanitize(k)] = "true"
        }
        for (k, v) in pod.metadata.annotations ?? [:] {
            base["__meta_kubernetes_pod_annotation_" + sanitize(k)] = v
            base["__meta_kubernetes_pod_annotationpresent_" + sanitize(k)] = "true"
        }
        if let owner = pod.metadata.ownerReferences?.first(where: { $0.controller == true }) {
            base["__meta_kubernetes_pod_controller_kind"] = owner.kind
            base["__meta_kubernetes_pod_controller_name"] = owner.name
        }
        var out: [Labels] = []
        let containers = (pod.spec?.containers ?? []).map { ($0, false) } + (pod.spec?.initContainers ?? []).map { ($0, true) }
        for (c, isInit) in containers {
            var l = base
            l["__meta_kubernetes_pod_container_name"] = c.name
            l["__meta_kubernetes_pod_container_image"] = c.image ?? ""
            l["__meta_kubernetes_pod_container_init"] = String(isInit)
            let ports = c.ports ?? []
            if ports.isEmpty {
                l["__address__"] = ip
                out.append(Labels(l))
                continue
            }
            for p in ports {
                var pl = l
                pl["__address__"] = joinHostPort(ip, p.containerPort)
                pl["__meta_kubernetes_pod_container_port_name"] = p.name ?? ""
                pl["__meta_kubernetes_pod_container_port_number"] = String(p.containerPort)
                pl["__meta_kubernetes_pod_container_port_protocol"] = p.protocol ?? "TCP"
                out.append(Labels(pl))
            }
        }
        return out
    }

    static func readiness(_ pod: Pod) -> String {
        guard let c = pod.status?.conditions?.first(where: { $0.type == "Ready" }) else { return "unknown" }
        return c.status.lowercased()
    }

    static func joinHostPort(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Label-name characters other than `[a-zA-Z0-9_]` become `_`.
    static func sanitize(_ s: String) -> String {
        String(s.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") ? $0 : "_" })
    }
}
