import Foundation
import Logging
import Testing
import TestSupport
@testable import Scrape
import TSDB

/// Configurations users bring, loaded unchanged against a cluster stand-in: the default scrape
/// configuration of the prometheus-community Helm chart and the README's example.
@Suite(.serialized) struct KubernetesChartTests {
    /// A small cluster: a node, the API server's service and endpoints, an annotated service
    /// with endpoints onto a pod, a pushgateway, a probed service, an annotated pod and a
    /// finished one.
    static func populate(_ api: FakeKubeAPIServer) {
        api.put("api/v1/nodes", [
            "kind": "Node", "metadata": ["name": "node-1", "labels": ["kubernetes.io/hostname": "node-1", "kubernetes.io/os": "linux"]],
            "spec": ["providerID": "kind://docker/kind/node-1"],
            "status": ["addresses": [["type": "InternalIP", "address": "172.18.0.2"], ["type": "Hostname", "address": "node-1"]],
                       "daemonEndpoints": ["kubeletEndpoint": ["Port": 10250]]],
        ])
        api.put("api/v1/services", service("kubernetes", "default", labels: ["component": "apiserver", "provider": "kubernetes"],
                                            ports: [("https", 443)]))
        api.put("api/v1/endpoints", [
            "kind": "Endpoints", "metadata": ["name": "kubernetes", "namespace": "default"],
            "subsets": [["addresses": [["ip": "172.18.0.2"]], "ports": [["name": "https", "port": 6443, "protocol": "TCP"]]]],
        ])
        api.put("api/v1/services", service("web", "shop", labels: ["app": "web"], ports: [("http", 80)],
                                            annotations: ["prometheus.io/scrape": "true", "prometheus.io/port": "9102", "prometheus.io/path": "/stats"]))
        api.put("api/v1/endpoints", [
            "kind": "Endpoints", "metadata": ["name": "web", "namespace": "shop"],
            "subsets": [["addresses": [["ip": "10.1.0.5", "nodeName": "node-1", "targetRef": ["kind": "Pod", "name": "web-1", "namespace": "shop"]]],
                         "ports": [["name": "http", "port": 8080, "protocol": "TCP"]]]],
        ])
        api.put("api/v1/pods", FakeKubeAPIServer.pod("web-1", namespace: "shop", ip: "10.1.0.5", ports: [("http", 8080), ("metrics", 9102)]))
        api.put("api/v1/services", service("pushgateway", "monitoring", labels: [:], ports: [("http", 9091)],
                                            annotations: ["prometheus.io/probe": "pushgateway"]))
        api.put("api/v1/services", service("frontend", "shop", labels: ["tier": "frontend"], ports: [("http", 80)],
                                            annotations: ["prometheus.io/probe": "true"]))
        api.put("api/v1/pods", FakeKubeAPIServer.pod("api-1", namespace: "shop", ip: "10.1.0.9", ports: [("http", 8080), ("grpc", 9090)],
                                                     labels: ["app": "api"], annotations: ["prometheus.io/scrape": "true", "prometheus.io/port": "9000"]))
        api.put("api/v1/pods", FakeKubeAPIServer.pod("done-1", namespace: "shop", ip: "10.1.0.10", labels: ["app": "batch"],
                                                     annotations: ["prometheus.io/scrape": "true"], phase: "Succeeded"))
    }

    static func service(_ name: String, _ namespace: String, labels: [String: String], ports: [(String, Int)],
                        annotations: [String: String] = [:]) -> [String: Any] {
        ["kind": "Service", "metadata": ["name": name, "namespace": namespace, "labels": labels, "annotations": annotations],
         "spec": ["type": "ClusterIP", "clusterIP": "10.96.0.10", "ports": ports.map { ["name": $0.0, "port": $0.1, "protocol": "TCP"] }]]
    }

    /// The chart's default scrape_configs, unchanged, in a pod (service account and in-cluster
    /// environment): the targets and labels Prometheus derives from these objects.
    @Test func helmChartDefaultsYieldPrometheusTargets() async throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/helm-prometheus-scrape-configs.yml")
        let config = try PrometheusConfig.parse(try String(contentsOf: fixture, encoding: .utf8))
        #expect(config.jobs.count == 10)
        let fx = try await KubeFixture()
        defer { fx.remove() }
        try fx.write("sa-token", to: "token")
        let api = try await fx.server()
        defer { api.stop() }
        api.allow("sa-token")
        Self.populate(api)

        let manager = runningScrapeManager(storage: Head())
        let discovery = runningDiscovery(DiscoveryManager(manager: manager, logger: Logger(label: "test"), timing: KubeFixture.timing,
                                         environment: ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": String(api.port)],
                                         serviceAccount: fx.dir))
        discovery.apply(config)
        let expected: [String: [String: String]] = [
            "http://localhost:9090/metrics": ["job": "prometheus", "instance": "localhost:9090"],
            "https://172.18.0.2:6443/metrics": ["job": "kubernetes-apiservers", "instance": "172.18.0.2:6443"],
            "https://kubernetes.default.svc:443/api/v1/nodes/node-1/proxy/metrics":
                ["job": "kubernetes-nodes", "instance": "node-1", "kubernetes_io_hostname": "node-1", "kubernetes_io_os": "linux"],
            "https://kubernetes.default.svc:443/api/v1/nodes/node-1/proxy/metrics/cadvisor":
                ["job": "kubernetes-nodes-cadvisor", "instance": "node-1", "kubernetes_io_hostname": "node-1", "kubernetes_io_os": "linux"],
            "http://10.1.0.5:9102/stats":
                ["job": "kubernetes-service-endpoints", "instance": "10.1.0.5:9102", "app": "web", "namespace": "shop",
                 "service": "web", "node": "node-1"],
            "http://pushgateway.monitoring.svc:9091/metrics": ["job": "prometheus-pushgateway", "instance": "pushgateway.monitoring.svc:9091"],
            "http://blackbox:80/probe?module=http_2xx&target=frontend.shop.svc%3A80":
                ["job": "kubernetes-services", "instance": "frontend.shop.svc:80", "tier": "frontend", "namespace": "shop", "service": "frontend"],
            "http://10.1.0.9:9000/metrics":
                ["job": "kubernetes-pods", "instance": "10.1.0.9:9000", "app": "api", "namespace": "shop", "pod": "api-1", "node": "node-1"],
        ]
        // Informers race (an endpoints object may come before the pod it points at, and its
        // targets are rebuilt when the pod arrives): wait for the final state.
        let want = expected.mapValues { Labels($0) }
        func found() -> [String: Labels] {
            Dictionary(manager.active.map { ($0.target.url, $0.target.labels) }, uniquingKeysWith: { a, _ in a })
        }
        #expect(await eventually { found() == want && manager.active.count == want.count })
        for (url, labels) in found() { #expect(labels == want[url], "\(url)") }
        #expect(Set(found().keys) == Set(want.keys))
        // Every object's targets that relabeling dropped are listed as dropped (for the UI).
        #expect(manager.dropped.contains { $0["__meta_kubernetes_pod_name"] == "done-1" })
        discovery.stop()
        await manager.shutdown()
        #expect(api.requests.allSatisfy { $0.status == 200 && $0.authorization == "Bearer sa-token" })
    }

    /// The annotation-driven configuration in README.md, as written (with the API server's
    /// address and credentials added, since the test runs outside a cluster).
    @Test func readmeExampleWorksAsWritten() async throws {
        let readme = try String(contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md").path, encoding: .utf8)
        let start = try #require(readme.range(of: "<!-- kubernetes-example -->\n```yaml\n"))
        let end = try #require(readme.range(of: "```\n<!-- /kubernetes-example -->"))
        let fx = try await KubeFixture()
        defer { fx.remove() }
        let api = try await fx.server()
        defer { api.stop() }
        api.allow("t")
        let yaml = String(readme[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "      - role: pod\n", with: """
              - role: pod
                api_server: https://127.0.0.1:\(api.port)
                authorization: {credentials: t}
                tls_config: {ca_file: \(fx.ca)}

        """)
        api.put("api/v1/pods", FakeKubeAPIServer.pod("web-a", ip: "10.1.0.5", ports: [("http", 8080), ("admin", 7070)],
                                                     annotations: ["prometheus.io/scrape": "true", "prometheus.io/port": "8080"]))
        api.put("api/v1/pods", FakeKubeAPIServer.pod("other", ip: "10.1.0.6"))
        let manager = runningScrapeManager(storage: Head())
        let discovery = runningDiscovery(DiscoveryManager(manager: manager, logger: Logger(label: "test"), timing: KubeFixture.timing))
        discovery.apply(try PrometheusConfig.parse(yaml))
        #expect(await eventually { !manager.active.isEmpty })
        discovery.stop()
        let targets = manager.active.map(\.target)
        // Only the annotated pod, both its ports rewritten to the annotated one.
        #expect(Set(targets.map(\.url)) == ["http://10.1.0.5:8080/metrics"])
        let t = try #require(targets.first)
        #expect(t.labels["namespace"] == "default" && t.labels["pod"] == "web-a" && t.labels["app"] == "web")
        #expect(t.labels["job"] == "kubernetes-pods" && t.labels["instance"] == "10.1.0.5:8080")
        await manager.shutdown()
    }
}
