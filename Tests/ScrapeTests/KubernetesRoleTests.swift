import Foundation
import Synchronization
import Testing
@testable import Scrape
import TSDB

/// Decodes an API object from its JSON.
func object<T: Decodable>(_ json: String, as: T.Type = T.self) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(json.utf8))
}

/// The labels Prometheus 2.42 gives each role's targets, from objects in the API's JSON.
@Suite struct KubernetesRoleTests {
    static let pod = """
    {"metadata":{"name":"web-1","namespace":"shop","uid":"u1","labels":{"app.kubernetes.io/name":"web"},
      "annotations":{"prometheus.io/scrape":"true"},
      "ownerReferences":[{"kind":"ReplicaSet","name":"web-5d9","controller":true},{"kind":"Other","name":"x"}]},
     "spec":{"nodeName":"node-1","containers":[{"name":"main","image":"web:1","ports":[{"name":"http","containerPort":8080,"protocol":"TCP"},{"containerPort":9102}]},
                                                {"name":"sidecar","image":"proxy:2"}],
             "initContainers":[{"name":"init","image":"busybox"}]},
     "status":{"podIP":"10.1.0.5","hostIP":"172.18.0.2","phase":"Running","conditions":[{"type":"Ready","status":"True"}],
               "containerStatuses":[{"name":"main","containerID":"containerd://abc"}]}}
    """

    @Test func podTargets() throws {
        let pod = try object(Self.pod, as: K8s.Pod.self)
        let node = try object(#"{"metadata":{"name":"node-1","labels":{"zone":"a"}}}"#, as: K8s.Node.self)
        let targets = pod.targets(node: node)
        #expect(targets.map { $0["__address__"] } == ["10.1.0.5:8080", "10.1.0.5:9102", "10.1.0.5", "10.1.0.5"])
        let t = targets[0]
        let expected: [String: String] = [
            "namespace": "shop", "pod_name": "web-1", "pod_ip": "10.1.0.5", "pod_ready": "true", "pod_phase": "Running",
            "pod_node_name": "node-1", "pod_host_ip": "172.18.0.2", "pod_uid": "u1", "pod_controller_kind": "ReplicaSet",
            "pod_controller_name": "web-5d9", "pod_label_app_kubernetes_io_name": "web", "pod_labelpresent_app_kubernetes_io_name": "true",
            "pod_annotation_prometheus_io_scrape": "true", "pod_annotationpresent_prometheus_io_scrape": "true",
            "pod_container_name": "main", "pod_container_id": "containerd://abc", "pod_container_image": "web:1",
            "pod_container_init": "false", "pod_container_port_name": "http", "pod_container_port_number": "8080",
            "pod_container_port_protocol": "TCP", "node_name": "node-1", "node_label_zone": "a", "node_labelpresent_zone": "true",
        ]
        for (k, v) in expected { #expect(t["__meta_kubernetes_" + k] == v, "\(k)") }
        #expect(t.count == expected.count + 1)
        // Empty values are absent labels, as in Prometheus.
        #expect(targets[1]["__meta_kubernetes_pod_container_port_name"] == nil && targets[1]["__meta_kubernetes_pod_container_port_protocol"] == "TCP")
        #expect(targets[2]["__meta_kubernetes_pod_container_name"] == "sidecar" && targets[2]["__meta_kubernetes_pod_container_port_number"] == nil)
        #expect(targets[2]["__meta_kubernetes_pod_container_id"] == nil)
        #expect(targets[3]["__meta_kubernetes_pod_container_init"] == "true")

        // IPv6 in brackets; no IP: no targets; no Ready condition: unknown.
        let v6 = try object(Self.pod.replacingOccurrences(of: "10.1.0.5", with: "fd00::5"), as: K8s.Pod.self)
        #expect(v6.targets(node: nil).first?["__address__"] == "[fd00::5]:8080")
        #expect(v6.targets(node: nil).last?["__address__"] == "fd00::5")
        let pending = try object(#"{"metadata":{"name":"p","namespace":"n"},"spec":{"containers":[{"name":"c"}]},"status":{"phase":"Pending"}}"#, as: K8s.Pod.self)
        #expect(pending.targets(node: nil).isEmpty)
        #expect(MetaLabels.readiness(pending) == "unknown")
    }

    @Test func nodeTargets() throws {
        let node = try object("""
        {"metadata":{"name":"node-1","labels":{"kubernetes.io/os":"linux"},"annotations":{"a/b":"c"}},"spec":{"providerID":"aws:///i-1"},
         "status":{"addresses":[{"type":"Hostname","address":"node-1"},{"type":"ExternalIP","address":"1.2.3.4"},
                                {"type":"InternalIP","address":"10.0.0.1"},{"type":"InternalIP","address":"10.0.0.2"}],
                   "daemonEndpoints":{"kubeletEndpoint":{"Port":10250}}}}
        """, as: K8s.Node.self)
        let t = try #require(node.targets()?.first)
        #expect(t["__address__"] == "10.0.0.1:10250" && t["instance"] == "node-1")
        #expect(t["__meta_kubernetes_node_name"] == "node-1" && t["__meta_kubernetes_node_provider_id"] == "aws:///i-1")
        #expect(t["__meta_kubernetes_node_address_InternalIP"] == "10.0.0.1" && t["__meta_kubernetes_node_address_ExternalIP"] == "1.2.3.4")
        #expect(t["__meta_kubernetes_node_address_Hostname"] == "node-1")
        #expect(t["__meta_kubernetes_node_label_kubernetes_io_os"] == "linux" && t["__meta_kubernetes_node_annotation_a_b"] == "c")
        #expect(t["__meta_kubernetes_namespace"] == nil)
        let bare = try object(#"{"metadata":{"name":"n"},"status":{"addresses":[]}}"#, as: K8s.Node.self)
        #expect(bare.targets() == nil)
        let hostOnly = try object(#"{"metadata":{"name":"n"},"status":{"addresses":[{"type":"Hostname","address":"n"}]}}"#, as: K8s.Node.self)
        #expect(hostOnly.targets()?.first?["__address__"] == "n:0")
    }

    @Test func serviceTargets() throws {
        let svc = try object("""
        {"metadata":{"name":"web","namespace":"shop","labels":{"app":"web"}},
         "spec":{"type":"LoadBalancer","clusterIP":"10.96.0.7","loadBalancerIP":"1.2.3.4",
                 "ports":[{"name":"http","port":80,"protocol":"TCP"},{"port":53,"protocol":"UDP"}]}}
        """, as: K8s.Service.self)
        let t = svc.targets()
        #expect(t.map { $0["__address__"] } == ["web.shop.svc:80", "web.shop.svc:53"])
        #expect(t[0]["__meta_kubernetes_service_port_name"] == "http" && t[1]["__meta_kubernetes_service_port_protocol"] == "UDP")
        #expect(t[0]["__meta_kubernetes_service_cluster_ip"] == "10.96.0.7" && t[0]["__meta_kubernetes_service_loadbalancer_ip"] == "1.2.3.4")
        #expect(t[0]["__meta_kubernetes_service_type"] == "LoadBalancer" && t[0]["__meta_kubernetes_service_label_app"] == "web")
        #expect(t[0]["__meta_kubernetes_namespace"] == "shop" && t[0]["__meta_kubernetes_service_name"] == "web")
        let external = try object(#"{"metadata":{"name":"db","namespace":"n"},"spec":{"type":"ExternalName","externalName":"db.example.com","ports":[{"port":5432}]}}"#,
                                  as: K8s.Service.self)
        #expect(external.targets().first?["__meta_kubernetes_service_external_name"] == "db.example.com")
        #expect(external.targets().first?["__meta_kubernetes_service_cluster_ip"] == nil)
    }

    @Test func ingressTargets() throws {
        let ing = try object("""
        {"metadata":{"name":"shop","namespace":"n","labels":{"a":"b"}},
         "spec":{"ingressClassName":"nginx","tls":[{"hosts":["*.example.com"]}],
                 "rules":[{"host":"shop.example.com","http":{"paths":[{"path":"/api"},{"path":""}]}},
                          {"host":"example.com"},{"host":"empty.example.com","http":{"paths":[]}}]}}
        """, as: K8s.Ingress.self)
        let t = ing.targets()
        #expect(t.map { $0["__address__"] } == ["shop.example.com", "shop.example.com", "example.com"])
        #expect(t.map { $0["__meta_kubernetes_ingress_path"] } == ["/api", "/", "/"])
        #expect(t.map { $0["__meta_kubernetes_ingress_scheme"] } == ["https", "https", "http"])
        #expect(t[0]["__meta_kubernetes_ingress_class_name"] == "nginx" && t[0]["__meta_kubernetes_ingress_label_a"] == "b")
        #expect(K8s.Ingress.matches(pattern: "*.example.com", host: "a.example.com"))
        #expect(!K8s.Ingress.matches(pattern: "*.example.com", host: "a.b.example.com"))
    }

    static let endpoints = """
    {"metadata":{"name":"web","namespace":"shop","labels":{"l":"v"}},
     "subsets":[{"addresses":[{"ip":"10.1.0.5","nodeName":"node-1","hostname":"h","targetRef":{"kind":"Pod","name":"web-1","namespace":"shop"}}],
                 "notReadyAddresses":[{"ip":"10.1.0.6"}],
                 "ports":[{"name":"http","port":8080,"protocol":"TCP"}]}]}
    """

    func context(pods: [K8s.Pod] = [], services: [K8s.Service] = [], nodes: [K8s.Node] = []) -> EndpointContext {
        EndpointContext(service: { ns, name in services.first { $0.metadata.namespace == ns && $0.metadata.name == name } },
                        pod: { key in pods.first { $0.key == key } }, node: { name in nodes.first { $0.metadata.name == name } })
    }

    @Test func endpointsTargets() throws {
        let ep = try object(Self.endpoints, as: K8s.Endpoints.self)
        let pod = try object(Self.pod.replacingOccurrences(of: #""namespace":"shop""#, with: #""namespace":"shop""#), as: K8s.Pod.self)
        let svc = try object(#"{"metadata":{"name":"web","namespace":"shop","annotations":{"prometheus.io/scrape":"true"}},"spec":{}}"#, as: K8s.Service.self)
        let t = ep.targets(context(pods: [pod], services: [svc]), attachNode: false)
        // Ready address, not-ready address, then the pod's port 9102 that no endpoint covers.
        #expect(t.map { $0["__address__"] } == ["10.1.0.5:8080", "10.1.0.6:8080", "10.1.0.5:9102"])
        let ready = t[0]
        #expect(ready["__meta_kubernetes_endpoints_name"] == "web" && ready["__meta_kubernetes_endpoints_label_l"] == "v")
        #expect(ready["__meta_kubernetes_endpoint_ready"] == "true" && ready["__meta_kubernetes_endpoint_port_name"] == "http")
        #expect(ready["__meta_kubernetes_endpoint_node_name"] == "node-1" && ready["__meta_kubernetes_endpoint_hostname"] == "h")
        #expect(ready["__meta_kubernetes_endpoint_address_target_kind"] == "Pod" && ready["__meta_kubernetes_endpoint_address_target_name"] == "web-1")
        #expect(ready["__meta_kubernetes_service_annotation_prometheus_io_scrape"] == "true")
        #expect(ready["__meta_kubernetes_pod_name"] == "web-1" && ready["__meta_kubernetes_pod_container_name"] == "main")
        #expect(ready["__meta_kubernetes_pod_container_port_name"] == "http" && ready["__meta_kubernetes_pod_container_id"] == nil)
        #expect(t[1]["__meta_kubernetes_endpoint_ready"] == "false" && t[1]["__meta_kubernetes_pod_name"] == nil)
        #expect(t[2]["__meta_kubernetes_endpoint_ready"] == nil && t[2]["__meta_kubernetes_pod_container_port_number"] == "9102")
        #expect(t[2]["__meta_kubernetes_service_name"] == "web")
    }

    @Test func endpointSliceTargets() throws {
        let slice = try object("""
        {"metadata":{"name":"web-abc","namespace":"shop","labels":{"kubernetes.io/service-name":"web"}},"addressType":"IPv4",
         "endpoints":[{"addresses":["10.1.0.5"],"conditions":{"ready":true,"serving":true,"terminating":false},"nodeName":"node-1",
                       "targetRef":{"kind":"Pod","name":"web-1","namespace":"shop"}},
                      {"addresses":["10.1.0.7"],"conditions":{"ready":false},"deprecatedTopology":{"topology.kubernetes.io/zone":"a"}}],
         "ports":[{"name":"http","port":8080,"protocol":"TCP","appProtocol":"http"}]}
        """, as: K8s.EndpointSlice.self)
        let pod = try object(Self.pod, as: K8s.Pod.self)
        let svc = try object(#"{"metadata":{"name":"web","namespace":"shop"},"spec":{}}"#, as: K8s.Service.self)
        let t = slice.targets(context(pods: [pod], services: [svc]), attachNode: false)
        #expect(t.map { $0["__address__"] } == ["10.1.0.5:8080", "10.1.0.7:8080", "10.1.0.5:9102"])
        #expect(t[0]["__meta_kubernetes_endpointslice_name"] == "web-abc" && t[0]["__meta_kubernetes_endpointslice_address_type"] == "IPv4")
        #expect(t[0]["__meta_kubernetes_endpointslice_port"] == "8080" && t[0]["__meta_kubernetes_endpointslice_port_app_protocol"] == "http")
        #expect(t[0]["__meta_kubernetes_endpointslice_endpoint_conditions_ready"] == "true")
        #expect(t[0]["__meta_kubernetes_endpointslice_endpoint_conditions_terminating"] == "false")
        #expect(t[0]["__meta_kubernetes_service_name"] == "web" && t[0]["__meta_kubernetes_pod_container_name"] == "main")
        #expect(t[1]["__meta_kubernetes_endpointslice_endpoint_conditions_ready"] == "false")
        #expect(t[1]["__meta_kubernetes_endpointslice_endpoint_conditions_serving"] == nil)
        #expect(t[1]["__meta_kubernetes_endpointslice_endpoint_topology_topology_kubernetes_io_zone"] == "a")
    }

    /// Changes to related objects rebuild exactly the groups that use them.
    @Test func relatedChangesRebuildTheirGroups() throws {
        let sent = Mutex<[[String]]>([])
        let targets = KubernetesTargets(role: .endpoints, attachNode: true) { groups in sent.withLock { $0.append(groups.map(\.source)) } }
        let ep = try object(Self.endpoints, as: K8s.Endpoints.self)
        let other = try object(Self.endpoints.replacingOccurrences(of: #""name":"web""#, with: #""name":"db""#)
            .replacingOccurrences(of: "web-1", with: "db-1").replacingOccurrences(of: "node-1", with: "node-2"), as: K8s.Endpoints.self)
        targets.endpoints(.listed([ep, other]), namespace: nil)
        #expect(sent.withLock { $0.last?.sorted() } == ["endpoints/shop/db", "endpoints/shop/web"])
        let svc = try object(#"{"metadata":{"name":"web","namespace":"shop"},"spec":{}}"#, as: K8s.Service.self)
        targets.services(.upserted(svc), namespace: nil)
        #expect(sent.withLock { $0.last } == ["endpoints/shop/web"])
        let pod = try object(Self.pod, as: K8s.Pod.self)
        targets.pods(.upserted(pod), namespace: nil)
        #expect(sent.withLock { $0.last } == ["endpoints/shop/web"])
        let node = try object(#"{"metadata":{"name":"node-2"}}"#, as: K8s.Node.self)
        targets.nodes(.upserted(node))
        #expect(sent.withLock { $0.last } == ["endpoints/shop/db"])
        let count = sent.withLock { $0.count }
        let unrelated = try object(#"{"metadata":{"name":"x","namespace":"shop"},"spec":{}}"#, as: K8s.Service.self)
        targets.services(.upserted(unrelated), namespace: nil)
        #expect(sent.withLock { $0.count } == count)
        // A new list without one object removes its group.
        targets.endpoints(.listed([ep]), namespace: nil)
        #expect(sent.withLock { $0.last?.sorted() } == ["endpoints/shop/db", "endpoints/shop/web"])
        #expect(targets.state.withLock { $0.endpoints["shop/db"] == nil && $0.byNode["node-2"]?.isEmpty != false })
    }

    @Test func watchLinesAreBounded() throws {
        var reader = WatchLineReader(limit: 16)
        var lines: [String] = []
        try reader.feed(Array("ab\ncd".utf8)) { lines.append(String(decoding: $0, as: UTF8.self)) }
        try reader.feed(Array("ef\n\ngh".utf8)) { lines.append(String(decoding: $0, as: UTF8.self)) }
        #expect(lines == ["ab", "cdef"])
        #expect(throws: KubernetesAPIError.eventTooLarge(16)) {
            try reader.feed(Array(repeating: UInt8(ascii: "x"), count: 20)) { _ in }
        }
    }

    @Test func backoffDoublesWithJitterToTheMaximum() {
        var timing = InformerTiming()
        timing.initialBackoff = .milliseconds(800)
        timing.maxBackoff = .seconds(30)
        var b = Backoff(timing: timing)
        let waits = (0..<8).map { _ in b.next() }
        for (w, base) in zip(waits, [0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30, 30]) {
            #expect(w >= .milliseconds(Int64(base * 1000)) && w < .milliseconds(Int64(base * 2000)), "\(w) for \(base)")
        }
        #expect(b.next(retryAfter: 120) >= .seconds(120))
        b.reset()
        #expect(b.next() < .milliseconds(1600))
    }
}
