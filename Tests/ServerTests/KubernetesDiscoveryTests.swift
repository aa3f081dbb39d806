import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import Synchronization
import Testing
@testable import Scrape
import TSDB

/// A loopback Kubernetes API server: PodList answers and watch streams in the real JSON shapes.
final class FakeKubernetes: Sendable {
    final class Script: Sendable {
        let lists = Locked<[String]>([])
        let watches = Locked<[String]>([])
        let requests = Locked<[String]>([])
    }

    let script = Script()
    let task: Task<Void, any Error>
    let port: Int

    init() async {
        let script = self.script
        let router = Router()
        router.get("/api/v1/namespaces/default/pods") { request, _ -> Response in
            script.requests.withLock { $0.append(request.uri.description) }
            let isWatch = request.uri.queryParameters["watch"] == "1"
            let body = isWatch ? script.watches.withLock { q in q.isEmpty ? nil : q.removeFirst() }
                               : script.lists.withLock { q in q.isEmpty ? nil : q.removeFirst() }
            guard let body else {
                // Nothing more scripted: hold the watch open briefly, then end it.
                try await Task.sleep(for: .milliseconds(200))
                return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "")))
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
        (task, port) = await startLoopback(router)
    }

    static func pod(_ name: String, ip: String?, version: String, ready: Bool = true, ports: [(String, Int)] = [("http", 8080)],
                    labels: [String: String] = ["app": "web", "app.kubernetes.io/name": "shop"]) -> String {
        let portJSON = ports.map { #"{"name":"\#($0.0)","containerPort":\#($0.1),"protocol":"TCP"}"# }.joined(separator: ",")
        let labelJSON = labels.map { #""\#($0.key)":"\#($0.value)""# }.joined(separator: ",")
        let status = ip.map { #""podIP":"\#($0)","hostIP":"10.0.0.1","# } ?? ""
        return #"""
        {"kind":"Pod","apiVersion":"v1","metadata":{"name":"\#(name)","namespace":"default","uid":"uid-\#(name)","resourceVersion":"\#(version)","labels":{\#(labelJSON)},"annotations":{"prometheus.io/scrape":"true","prometheus.io/port":"8080"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-5d9","uid":"rs1","controller":true}]},"spec":{"nodeName":"node-1","containers":[{"name":"main","image":"web:1.0","ports":[\#(portJSON)]}]},"status":{\#(status)"phase":"Running","conditions":[{"type":"Ready","status":"\#(ready ? "True" : "False")"}]}}
        """#
    }

    func stop() { task.cancel() }
}

@Suite(.serialized) struct KubernetesDiscoveryTests {
    @Test func listWatchAndRelistAfterGone() async throws {
        let api = await FakeKubernetes()
        defer { api.stop() }
        let podA = FakeKubernetes.pod("web-a", ip: "10.1.0.5", version: "11", ports: [("http", 8080), ("metrics", 9090)])
        let pending = FakeKubernetes.pod("web-b", ip: nil, version: "12")
        api.script.lists.withLock {
            $0 = [#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"100"},"items":[\#(podA),\#(pending)]}"#,
                  #"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"300"},"items":[\#(FakeKubernetes.pod("web-c", ip: "10.1.0.9", version: "301"))]}"#]
        }
        let running = FakeKubernetes.pod("web-b", ip: "10.1.0.7", version: "101", ready: false)
        let noPorts = FakeKubernetes.pod("batch", ip: "10.1.0.8", version: "102", ports: [])
        api.script.watches.withLock {
            $0 = ["{\"type\":\"MODIFIED\",\"object\":\(running)}\n{\"type\":\"ADDED\",\"object\":\(noPorts)}\n{\"type\":\"DELETED\",\"object\":\(podA)}\n",
                  #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version","reason":"Expired","code":410}}"# + "\n"]
        }
        let updates = Locked<[[Labels]]>([])
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let config = try PrometheusConfig.parse("""
        scrape_configs:
          - job_name: pods
            kubernetes_sd_configs:
              - role: pod
                api_server: http://127.0.0.1:\(api.port)
                namespaces: {names: [default]}
                selectors: [{role: pod, label: "app=web"}]
        """)
        let endpoint = try #require(KubernetesPodDiscovery.endpoint(for: config.jobs[0].kubernetesSD[0], authorization: "Bearer t0k"))
        let discovery = KubernetesPodDiscovery(endpoint: endpoint, client: client, logger: Logger(label: "test")) { targets in
            updates.withLock { $0.append(targets) }
        }
        let task = Task { await discovery.run() }
        for _ in 0..<300 where updates.withLock({ $0.last?.contains { $0["__meta_kubernetes_pod_name"] == "web-c" } ?? false }) == false {
            try await Task.sleep(for: .milliseconds(50))
        }
        task.cancel()
        _ = await task.value
        try await client.shutdown()
        let seen = updates.withLock { $0 }

        // After the first list: two targets of web-a (one per port), nothing for the pod without an IP.
        let first = try #require(seen.first)
        #expect(first.map { $0["__address__"] } == ["10.1.0.5:8080", "10.1.0.5:9090"])
        let a = first[0]
        #expect(a["__meta_kubernetes_namespace"] == "default" && a["__meta_kubernetes_pod_name"] == "web-a")
        #expect(a["__meta_kubernetes_pod_ip"] == "10.1.0.5" && a["__meta_kubernetes_pod_uid"] == "uid-web-a")
        #expect(a["__meta_kubernetes_pod_node_name"] == "node-1" && a["__meta_kubernetes_pod_host_ip"] == "10.0.0.1")
        #expect(a["__meta_kubernetes_pod_ready"] == "true" && a["__meta_kubernetes_pod_phase"] == "Running")
        #expect(a["__meta_kubernetes_pod_label_app_kubernetes_io_name"] == "shop")
        #expect(a["__meta_kubernetes_pod_labelpresent_app"] == "true")
        #expect(a["__meta_kubernetes_pod_annotation_prometheus_io_scrape"] == "true")
        #expect(a["__meta_kubernetes_pod_annotationpresent_prometheus_io_port"] == "true")
        #expect(a["__meta_kubernetes_pod_container_name"] == "main" && a["__meta_kubernetes_pod_container_image"] == "web:1.0")
        #expect(a["__meta_kubernetes_pod_container_port_name"] == "http" && a["__meta_kubernetes_pod_container_port_number"] == "8080")
        #expect(a["__meta_kubernetes_pod_container_port_protocol"] == "TCP" && a["__meta_kubernetes_pod_container_init"] == "false")
        #expect(a["__meta_kubernetes_pod_controller_kind"] == "ReplicaSet" && a["__meta_kubernetes_pod_controller_name"] == "web-5d9")

        // The watch: web-b got its IP (not ready), batch has no ports (one target at the pod IP), web-a went away.
        let afterWatch = try #require(seen.first { u in u.contains { $0["__meta_kubernetes_pod_name"] == "batch" } && !u.contains { $0["__meta_kubernetes_pod_name"] == "web-a" } })
        let b = try #require(afterWatch.first { $0["__meta_kubernetes_pod_name"] == "web-b" })
        #expect(b["__address__"] == "10.1.0.7:8080" && b["__meta_kubernetes_pod_ready"] == "false")
        #expect(afterWatch.first { $0["__meta_kubernetes_pod_name"] == "batch" }?["__address__"] == "10.1.0.8")

        // 410 Gone: listed again, and the new list replaced everything.
        let last = try #require(seen.last)
        #expect(last.map { $0["__meta_kubernetes_pod_name"] } == ["web-c"])
        let requests = api.script.requests.withLock { $0 }
        #expect(requests.contains { $0.contains("watch=1") && $0.contains("resourceVersion=100") })
        #expect(requests.first?.contains("labelSelector=app%3Dweb") == true)
    }

    @Test func inClusterSettingsComeFromTheEnvironment() throws {
        let dir = NSTemporaryDirectory() + "sextant-sa-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "tok\n".write(toFile: dir + "/token", atomically: true, encoding: .utf8)
        try "monitoring\n".write(toFile: dir + "/namespace", atomically: true, encoding: .utf8)
        var c = KubernetesSDConfig()
        c.ownNamespace = true
        let e = try #require(KubernetesPodDiscovery.endpoint(for: c, authorization: nil,
                                                             environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"],
                                                             serviceAccount: dir))
        #expect(e.apiServer == "https://10.96.0.1:443" && e.authorization == "Bearer tok" && e.namespaces == ["monitoring"])
        #expect(KubernetesPodDiscovery.endpoint(for: KubernetesSDConfig(), authorization: nil, environment: [:], serviceAccount: dir) == nil)
    }
}

@Suite(.serialized) struct ReadmeKubernetesExampleTests {
    /// The annotation-driven configuration in README.md, as written (with an api_server added,
    /// since the test runs outside a cluster), against pods from a fake API server.
    @Test func readmeExampleWorksAsWritten() async throws {
        let readme = try String(contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md").path, encoding: .utf8)
        let start = try #require(readme.range(of: "<!-- kubernetes-example -->\n```yaml\n"))
        let end = try #require(readme.range(of: "```\n<!-- /kubernetes-example -->"))
        var yaml = String(readme[start.upperBound..<end.lowerBound])
        let api = await FakeKubernetes()
        defer { api.stop() }
        yaml = yaml.replacingOccurrences(of: "      - role: pod\n", with: "      - role: pod\n        api_server: http://127.0.0.1:\(api.port)\n        namespaces: {names: [default]}\n")
        let annotated = FakeKubernetes.pod("web-a", ip: "10.1.0.5", version: "1", ports: [("http", 8080), ("admin", 7070)])
        let plain = FakeKubernetes.pod("other", ip: "10.1.0.6", version: "2").replacingOccurrences(of: #""prometheus.io/scrape":"true","#, with: "")
        api.script.lists.withLock { $0 = [#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"5"},"items":[\#(annotated),\#(plain)]}"#] }
        let config = try PrometheusConfig.parse(yaml)
        let manager = ScrapeManager(storage: Head(), logger: Logger(label: "test"))
        let discovery = DiscoveryManager(manager: manager, logger: Logger(label: "test"))
        discovery.apply(config)
        for _ in 0..<500 where manager.active.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
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
