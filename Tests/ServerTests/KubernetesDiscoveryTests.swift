import Foundation
import Logging
import Synchronization
import Testing
import TestSupport
@testable import Scrape
import TSDB

/// A directory for one test (token, namespace, kubeconfig files) and the test CA with the API
/// server's certificates, made once per test process (key generation is not free).
struct KubeFixture {
    let dir: String
    let certificates: String
    var token: String { dir + "/token" }
    var ca: String { certificates + "/ca.crt" }

    init() async throws {
        certificates = try await TestCA.shared.directory()
        dir = NSTemporaryDirectory() + "sextant-kube-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: certificates + "/ca.crt", toPath: dir + "/ca.crt")
    }

    func write(_ text: String, to name: String) throws {
        try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }

    /// A server whose certificate names 127.0.0.1 (or, `named`, only kubernetes.default.svc).
    func server(named: Bool = false) async throws -> FakeKubeAPIServer {
        let name = named ? "named" : "server"
        return try await FakeKubeAPIServer(certificate: "\(certificates)/\(name).crt", key: "\(certificates)/\(name).key")
    }

    /// Short timings, so watches expire and backoffs end within a test.
    static var timing: InformerTiming {
        var t = InformerTiming()
        t.pageSize = 10
        t.watchTimeoutSeconds = 2...3
        t.initialBackoff = .milliseconds(50)
        t.maxBackoff = .milliseconds(400)
        return t
    }
}

/// The test CA, made once per test process on a thread of its own: openssl runs as a child
/// process, and waiting for one blocks the waiting thread, which must not be one of the two
/// threads Swift's task executor has on this machine (a second test waiting for the first
/// would block the other, and with them every task in the process).
actor TestCA {
    static let shared = TestCA()
    private var made: Task<String, any Error>?

    func directory() async throws -> String {
        if let made { return try await made.value }
        let task = Task<String, any Error> {
            let dir = NSTemporaryDirectory() + "sextant-kube-ca-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try await offThePool { try makeTestCA(in: dir) }
            return dir
        }
        made = task
        return try await task.value
    }
}

/// Collects what a provider sends, as the discovery manager would hold it: groups by source.
final class GroupSink: Sendable {
    let groups = Mutex<[String: [Labels]]>([:])
    let sends = Atomic<Int>(0)

    func receive(_ update: [TargetGroup]) {
        sends.add(1, ordering: .relaxed)
        groups.withLock { g in for u in update { g[u.source] = u.targets.isEmpty ? nil : u.targets } }
    }

    var targets: [Labels] { groups.withLock { g in g.keys.sorted().flatMap { g[$0] ?? [] } } }
    func names(_ label: String = "__meta_kubernetes_pod_name") -> Set<String> { Set(targets.compactMap { $0[label] }) }
}

@Suite(.serialized) struct KubernetesDiscoveryTests {
    /// The scenario of a real cluster: TLS with the cluster's CA, a bearer token from a file
    /// that rotates, small list pages, watches the server ends, pods that churn while their
    /// targets are scraped, and 410 Gone both as a watch event and as a status. Every request
    /// carries a valid token of discovery's own, never the scrape job's.
    @Test func tokenTLSPagingChurnRotationAndGone() async throws {
        let fx = try await KubeFixture()
        defer { fx.remove() }
        try fx.write("tok-1\n", to: "token")
        let api = try await fx.server()
        defer { api.stop() }
        api.allow("tok-1")
        let metrics = await FakeTarget()
        defer { metrics.stop() }
        metrics.set("app_up 1\n")
        for i in 0..<25 { api.put("api/v1/pods", FakeKubeAPIServer.pod(String(format: "web-%02d", i), ip: "127.0.0.1", ports: [("http", metrics.port)])) }
        api.put("api/v1/pods", FakeKubeAPIServer.pod("other", ip: "127.0.0.1", labels: ["app": "db"]))

        let config = try PrometheusConfig.parse("""
        global: {scrape_interval: 1s, scrape_timeout: 1s}
        scrape_configs:
          - job_name: pods
            bearer_token: scrape-secret
            kubernetes_sd_configs:
              - role: pod
                api_server: https://127.0.0.1:\(api.port)
                authorization: {credentials_file: \(fx.token)}
                tls_config: {ca_file: \(fx.ca)}
                namespaces: {names: [default]}
                selectors: [{role: pod, label: "app=web"}]
            relabel_configs:
              - {source_labels: [__meta_kubernetes_pod_name], target_label: pod}
              - {source_labels: [__meta_kubernetes_pod_ready], target_label: ready}
        """)
        let head = Head()
        let manager = runningScrapeManager(storage: head)
        let discovery = runningDiscovery(DiscoveryManager(manager: manager, logger: Logger(label: "test"), timing: KubeFixture.timing))
        discovery.apply(config)
        func pods() -> Set<String> { Set(manager.active.compactMap { $0.target.labels["pod"] }) }

        // Listed in pages of 10; the selector kept the db pod out; scrapes run.
        #expect(await eventually { pods().count == 25 })
        #expect(!pods().contains("other"))
        let lists = api.requests.filter { $0.query["watch"] == nil }
        #expect(lists.count >= 3 && lists.allSatisfy { $0.query["limit"] == "10" && $0.query["labelSelector"] == "app=web" })
        #expect(lists.contains { $0.query["continue"] != nil })
        #expect(await eventually { manager.active.contains { $0.health.health == "up" } })

        // Churn while scraping: added, deleted and changed pods reach the scrape manager.
        api.put("api/v1/pods", FakeKubeAPIServer.pod("web-25", ip: "127.0.0.1", ports: [("http", metrics.port)]))
        api.delete("api/v1/pods", namespace: "default", name: "web-00")
        api.put("api/v1/pods", FakeKubeAPIServer.pod("web-01", ip: "127.0.0.1", ports: [("http", metrics.port)], ready: false))
        api.put("api/v1/pods", FakeKubeAPIServer.pod("web-03", ip: nil))
        #expect(await eventually { pods().contains("web-25") && !pods().contains("web-00") && !pods().contains("web-03") })
        #expect(await eventually { manager.active.contains { $0.target.labels["pod"] == "web-01" && $0.target.labels["ready"] == "false" } })

        // Watches the server ended were resumed from their last version, not listed again.
        #expect(await eventually { api.requests.filter { $0.query["watch"] == "1" }.count >= 3 })
        let watches = api.requests.filter { $0.query["watch"] == "1" }
        #expect(watches.allSatisfy { $0.query["allowWatchBookmarks"] == "true" && $0.query["timeoutSeconds"] != nil })
        #expect(api.requests.filter { $0.query["watch"] == nil && $0.query["continue"] == nil }.count == 1)

        // The token rotates: the file changes and the next request sends the new one.
        api.allow("tok-2")
        try fx.write("tok-2\n", to: "token")
        api.endWatches()
        #expect(await eventually { api.requests.contains { $0.authorization == "Bearer tok-2" } })
        api.revoke("tok-1")
        api.put("api/v1/pods", FakeKubeAPIServer.pod("web-26", ip: "127.0.0.1", ports: [("http", metrics.port)]))
        #expect(await eventually { pods().contains("web-26") })

        // 410 as a watch ERROR event: history compacted while a pod went away unannounced;
        // only a new list can show it.
        let listsBefore = api.requests.filter { $0.query["watch"] == nil && $0.query["continue"] == nil }.count
        api.delete("api/v1/pods", namespace: "default", name: "web-02", silently: true)
        api.compact()
        #expect(await eventually { !pods().contains("web-02") })
        #expect(api.requests.filter { $0.query["watch"] == nil && $0.query["continue"] == nil }.count > listsBefore)

        // 410 as the watch request's status.
        api.state.withLock { $0.goneAsStatus = true }
        api.delete("api/v1/pods", namespace: "default", name: "web-04", silently: true)
        api.compact()
        #expect(await eventually { !pods().contains("web-04") })
        #expect(pods().count == 23)

        discovery.stop()
        await manager.shutdown()
        let seen = api.requests
        #expect(seen.allSatisfy { $0.authorization == "Bearer tok-1" || $0.authorization == "Bearer tok-2" })
        #expect(seen.allSatisfy { $0.status == 200 || $0.status == 410 }, "\(seen.filter { $0.status != 200 }.map { "\($0.status) \($0.path)" })")
    }

    /// A token for one namespace: that namespace is discovered; the other answers 403 and is
    /// retried with backoff, not in a loop.
    @Test func namespaceScopedToken() async throws {
        let fx = try await KubeFixture()
        defer { fx.remove() }
        try fx.write("team-a-token", to: "token")
        let api = try await fx.server()
        defer { api.stop() }
        api.allow("team-a-token", namespaces: ["team-a"])
        api.put("api/v1/pods", FakeKubeAPIServer.pod("a1", namespace: "team-a", ip: "10.1.0.1"))
        api.put("api/v1/pods", FakeKubeAPIServer.pod("b1", namespace: "team-b", ip: "10.2.0.1"))
        var sd = KubernetesSDConfig()
        sd.apiServer = "https://127.0.0.1:\(api.port)"
        sd.namespaces = ["team-a", "team-b"]
        sd.http.credentials = .authorization(type: "Bearer", credentials: .file(fx.token))
        sd.http.tls.caFile = fx.ca
        let sink = GroupSink()
        let task = Task { await KubernetesDiscovery(config: sd, timing: KubeFixture.timing, logger: Logger(label: "test")).run(sink.receive) }
        #expect(await eventually { sink.names() == ["a1"] })
        try await Task.sleep(for: .seconds(2))
        task.cancel()
        await task.value
        let teamB = api.requests.filter { $0.path.contains("/team-b/") }
        #expect(teamB.allSatisfy { $0.status == 403 })
        // Backoff from 50 ms doubling to 400 ms (plus jitter): a handful of tries, not hundreds.
        #expect(teamB.count >= 2 && teamB.count <= 15, "\(teamB.count) requests")
        #expect(sink.names() == ["a1"])
    }

    /// In a pod: the API server from KUBERNETES_SERVICE_HOST/PORT, the service account's token,
    /// CA and namespace (own_namespace).
    @Test func inClusterServiceAccount() async throws {
        let fx = try await KubeFixture()
        defer { fx.remove() }
        try fx.write("sa-token\n", to: "token")
        try fx.write("monitoring", to: "namespace")
        let api = try await fx.server()
        defer { api.stop() }
        api.allow("sa-token")
        api.put("api/v1/pods", FakeKubeAPIServer.pod("mine", namespace: "monitoring", ip: "10.1.0.1"))
        api.put("api/v1/pods", FakeKubeAPIServer.pod("theirs", namespace: "default", ip: "10.1.0.2"))
        var sd = KubernetesSDConfig()
        sd.ownNamespace = true
        let sink = GroupSink()
        var discovery = KubernetesDiscovery(config: sd, timing: KubeFixture.timing, logger: Logger(label: "test"))
        discovery.environment = ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": String(api.port)]
        discovery.serviceAccount = fx.dir
        let run = discovery
        let task = Task { await run.run(sink.receive) }
        #expect(await eventually { sink.names() == ["mine"] })
        task.cancel()
        await task.value
        #expect(api.requests.allSatisfy { $0.authorization == "Bearer sa-token" && $0.path.hasPrefix("/api/v1/namespaces/monitoring/") })
    }

    /// TLS settings: the CA is required to trust the server, `server_name` names the
    /// certificate's name when the address is not it, `insecure_skip_verify` skips the check;
    /// a kubeconfig file with inline CA data and a token works the same.
    @Test func tlsSettingsAndKubeconfig() async throws {
        let fx = try await KubeFixture()
        defer { fx.remove() }
        let api = try await fx.server()
        defer { api.stop() }
        let named = try await fx.server(named: true)
        defer { named.stop() }
        for server in [api, named] {
            server.allow("t")
            server.put("api/v1/pods", FakeKubeAPIServer.pod("p", ip: "10.1.0.1"))
        }
        func discovers(_ server: FakeKubeAPIServer, _ configure: (inout KubernetesSDConfig) -> Void) async -> Bool {
            var sd = KubernetesSDConfig()
            sd.apiServer = "https://127.0.0.1:\(server.port)"
            sd.http.credentials = .authorization(type: "Bearer", credentials: .inline("t"))
            configure(&sd)
            let sink = GroupSink()
            let discovery = KubernetesDiscovery(config: sd, timing: KubeFixture.timing, logger: Logger(label: "test"))
            let task = Task { await discovery.run(sink.receive) }
            let found = await eventually(3) { sink.names() == ["p"] }
            task.cancel()
            await task.value
            return found
        }
        #expect(await discovers(api) { $0.http.tls.caFile = fx.ca })
        #expect(await discovers(api) { $0.http.tls.insecureSkipVerify = true })
        #expect(!(await discovers(api) { _ in }))
        #expect(await discovers(named) { $0.http.tls.caFile = fx.ca; $0.http.tls.serverName = "kubernetes.default.svc" })
        let verified = named.requests.count
        #expect(!(await discovers(named) { $0.http.tls.caFile = fx.ca }))
        #expect(!(await discovers(named) { $0.http.tls.caFile = fx.ca; $0.http.tls.serverName = "wrong.example" }))
        #expect(named.requests.count == verified, "an unverified server got requests")

        let caData = try Data(contentsOf: URL(fileURLWithPath: fx.ca)).base64EncodedString()
        try fx.write("""
        apiVersion: v1
        kind: Config
        current-context: test
        contexts: [{name: test, context: {cluster: c, user: u, namespace: default}}]
        clusters: [{name: c, cluster: {server: "https://127.0.0.1:\(api.port)", certificate-authority-data: \(caData)}}]
        users: [{name: u, user: {token: t}}]
        """, to: "kubeconfig")
        #expect(await discovers(api) { $0.apiServer = nil; $0.http = HTTPClientSettings(); $0.kubeconfigFile = fx.dir + "/kubeconfig" })
    }

    /// 429 with Retry-After waits as long as asked; a 500 is retried after the backoff.
    @Test func throttledAndFailingAnswersBackOff() async throws {
        let fx = try await KubeFixture()
        defer { fx.remove() }
        let api = try await fx.server()
        defer { api.stop() }
        api.allow("t")
        api.put("api/v1/pods", FakeKubeAPIServer.pod("p", ip: "10.1.0.1"))
        api.state.withLock { $0.failures = [(429, 1), (500, nil)] }
        var sd = KubernetesSDConfig()
        sd.apiServer = "https://127.0.0.1:\(api.port)"
        sd.http.credentials = .authorization(type: "Bearer", credentials: .inline("t"))
        sd.http.tls.caFile = fx.ca
        let sink = GroupSink()
        let started = ContinuousClock.now
        let task = Task { await KubernetesDiscovery(config: sd, timing: KubeFixture.timing, logger: Logger(label: "test")).run(sink.receive) }
        #expect(await eventually { sink.names() == ["p"] })
        let elapsed = ContinuousClock.now - started
        // Stopping is prompt: the open watch is cut, not waited for.
        let cancelled = ContinuousClock.now
        task.cancel()
        await task.value
        #expect(ContinuousClock.now - cancelled < .seconds(1))
        let statuses = api.requests.map(\.status)
        #expect(Array(statuses.prefix(3)) == [429, 500, 200])
        #expect(elapsed >= .seconds(1) && elapsed < .seconds(4), "Retry-After: 1 (\(elapsed))")
    }

    /// The endpointslice and ingress roles read their API groups' paths, and a reload with
    /// the same discovery settings keeps the running discovery (no new list) while the job's
    /// new relabeling applies to what it found.
    @Test func endpointSliceAndIngressRolesAndReload() async throws {
        let fx = try await KubeFixture()
        defer { fx.remove() }
        let api = try await fx.server()
        defer { api.stop() }
        api.allow("t")
        api.put("apis/discovery.k8s.io/v1/endpointslices", [
            "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": ["name": "web-x1", "namespace": "shop", "labels": ["kubernetes.io/service-name": "web"]],
            "endpoints": [["addresses": ["10.1.0.5"], "conditions": ["ready": true]]],
            "ports": [["name": "http", "port": 8080, "protocol": "TCP"]],
        ])
        api.put("api/v1/services", ["kind": "Service", "metadata": ["name": "web", "namespace": "shop", "labels": ["tier": "front"]],
                                    "spec": ["ports": [["name": "http", "port": 80]]]])
        api.put("apis/networking.k8s.io/v1/ingresses", [
            "kind": "Ingress", "metadata": ["name": "shop", "namespace": "shop"],
            "spec": ["rules": [["host": "shop.example.com", "http": ["paths": [["path": "/"]]]]]],
        ])
        func config(_ label: String) throws -> PrometheusConfig {
            try PrometheusConfig.parse("""
            scrape_configs:
              - job_name: slices
                scrape_interval: 1h
                kubernetes_sd_configs:
                  - {role: endpointslice, api_server: "https://127.0.0.1:\(api.port)", authorization: {credentials: t}, tls_config: {ca_file: \(fx.ca)}}
                relabel_configs: [{source_labels: [__meta_kubernetes_service_label_tier], target_label: \(label)}]
              - job_name: ingresses
                scrape_interval: 1h
                kubernetes_sd_configs:
                  - {role: ingress, api_server: "https://127.0.0.1:\(api.port)", authorization: {credentials: t}, tls_config: {ca_file: \(fx.ca)}}
            """)
        }
        let manager = runningScrapeManager(storage: Head())
        let discovery = runningDiscovery(DiscoveryManager(manager: manager, logger: Logger(label: "test"), timing: KubeFixture.timing))
        discovery.apply(try config("tier"))
        func urls() -> [String: Labels] { Dictionary(manager.active.map { ($0.target.url, $0.target.labels) }, uniquingKeysWith: { a, _ in a }) }
        // The slice's group is rebuilt when its service arrives (the informers race).
        #expect(await eventually { urls().count == 2 && urls()["http://10.1.0.5:8080/metrics"]?["tier"] == "front" })
        #expect(urls()["http://shop.example.com:80/metrics"]?["instance"] == "shop.example.com:80")
        let lists = { api.requests.filter { $0.query["watch"] == nil }.count }
        let before = lists()
        discovery.apply(try config("layer"))
        #expect(await eventually { urls()["http://10.1.0.5:8080/metrics"]?["layer"] == "front" })
        #expect(lists() == before, "an unchanged discovery listed again")
        discovery.stop()
        await manager.shutdown()
        #expect(api.requests.contains { $0.path == "/apis/discovery.k8s.io/v1/endpointslices" })
        #expect(api.requests.contains { $0.path == "/apis/networking.k8s.io/v1/ingresses" })
    }
}
