import Foundation
import Testing
import TSDB
@testable import Scrape

@Suite struct ConfigTests {
    static let good = """
    global:
      scrape_interval: 30s
      scrape_timeout: 10s
      external_labels: {cluster: eu1}
    scrape_configs:
      - job_name: node
        static_configs:
          - targets: ['a:9100', 'b:9100']
            labels: {env: prod}
        relabel_configs:
          - source_labels: [__address__]
            regex: 'b:.*'
            action: drop
      - job_name: api
        scrape_interval: 5s
        metrics_path: /custom
        scheme: https
        params: {module: [http_2xx]}
        honor_labels: true
        sample_limit: 1000
        body_size_limit: 10MB
        basic_auth: {username: u, password: p}
        tls_config: {insecure_skip_verify: true}
        static_configs: [{targets: ['api:443']}]
        metric_relabel_configs:
          - {source_labels: [__name__], regex: 'go_.*', action: drop}
      - job_name: pods
        kubernetes_sd_configs:
          - role: pod
            namespaces: {names: [default]}
    """

    @Test func parsesTheScrapePart() throws {
        let c = try PrometheusConfig.parse(Self.good)
        #expect(c.scrapeInterval == 30_000 && c.externalLabels == Labels(["cluster": "eu1"]))
        #expect(c.jobs.map(\.name) == ["node", "api", "pods"])
        let node = c.jobs[0].targets()
        #expect(node.active.map(\.url) == ["http://a:9100/metrics"])
        #expect(node.active.first?.labels == Labels(["env": "prod", "instance": "a:9100", "job": "node"]))
        #expect(node.dropped.count == 1)
        let api = c.jobs[1]
        #expect(api.interval == 5_000 && api.timeout == 5_000 && api.honorLabels && api.sampleLimit == 1000)
        #expect(api.bodySizeLimit == 10 << 20 && api.tls.insecureSkipVerify)
        let t = try #require(api.targets().active.first)
        #expect(t.url == "https://api:443/custom?module=http_2xx")
        #expect(try t.credentials.header() == "Basic dTpw")
        #expect(c.jobs[2].kubernetesSD.first?.namespaces == ["default"])
    }

    @Test(arguments: [
        ("scrape_configs:\n  - job_name: a\n    scrape_intervall: 5s\n", "scrape_configs[0].scrape_intervall"),
        ("global:\n  scrape_interval: soon\n", "global.scrape_interval"),
        ("scrape_configs:\n  - job_name: a\n  - job_name: a\n", "scrape_configs[1].job_name"),
        ("scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: explode\n", "scrape_configs[0].relabel_configs[0].action"),
        ("scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - {action: hashmod, target_label: x}\n", "scrape_configs[0].relabel_configs[0]"),
        ("scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\n", "scrape_configs[0]"),
        ("scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: [x]\n        labels: {1bad: v}\n", "scrape_configs[0].static_configs[0].labels.1bad"),
        ("scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - role: nodes\n", "scrape_configs[0].kubernetes_sd_configs[0].role"),
        ("scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - {api_server: 'https://k'}\n", "scrape_configs[0].kubernetes_sd_configs[0]"),
        ("scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - {role: pod, api_server: 'https://k', kubeconfig_file: k}\n",
         "scrape_configs[0].kubernetes_sd_configs[0]"),
        ("scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - {role: pod, authorization: {credentials: x}}\n",
         "scrape_configs[0].kubernetes_sd_configs[0]"),
        ("scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - {role: pod, api_server: 'https://k', namespaces: {own_namespace: true}}\n",
         "scrape_configs[0].kubernetes_sd_configs[0].namespaces"),
        ("scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - {role: pod, selectors: [{role: node, label: a=b}]}\n",
         "scrape_configs[0].kubernetes_sd_configs[0].selectors[0]"),
        ("scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - {role: endpoints, selectors: [{role: pod}, {role: pod}]}\n",
         "scrape_configs[0].kubernetes_sd_configs[0].selectors[1]"),
        ("scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - {role: pod, attach_metadata: {nodes: true}}\n",
         "scrape_configs[0].kubernetes_sd_configs[0].attach_metadata.nodes"),
        ("scrape_configs:\n  - job_name: a\n    bearer_token: x\n    bearer_token_file: y\n", "scrape_configs[0]"),
        ("scrape_configs:\n  - job_name: a\n    bearer_token: x\n    authorization: {credentials: y}\n", "scrape_configs[0]"),
        ("scrape_configs:\n  - job_name: a\n    basic_auth: {username: u}\n    authorization: {credentials: y}\n", "scrape_configs[0]"),
        ("scrape_configs:\n  - job_name: a\n    authorization: {type: Basic, credentials: y}\n", "scrape_configs[0].authorization.type"),
        ("scrape_configs:\n  - job_name: a\n    tls_config: {cert_file: c}\n", "scrape_configs[0].tls_config"),
        ("foo: bar\n", "foo"),
        // Values that overflow 64 bits are refused, not trapped on.
        ("global:\n  scrape_interval: 9999999999999999999y\n", "global.scrape_interval"),
        ("global:\n  scrape_interval: 300000y\n", "global.scrape_interval"),
        ("scrape_configs:\n  - job_name: a\n    body_size_limit: 99999999999EB\n", "scrape_configs[0].body_size_limit"),
        ("scrape_configs:\n  - job_name: a\n    body_size_limit: -5MB\n", "scrape_configs[0].body_size_limit"),
        ("scrape_configs:\n  - job_name: a\n    sample_limit: 99999999999999999999999\n", "scrape_configs[0].sample_limit"),
    ] as [(String, String)])
    func badFilesSayWhere(_ yaml: String, _ path: String) {
        do {
            _ = try PrometheusConfig.parse(yaml)
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.path == path, "\(error)")
        }
    }

    /// `rule_files` and `evaluation_interval`: relative paths resolve against the
    /// configuration's directory, absolute ones stay, an empty one is refused.
    @Test func ruleFilesAndEvaluationInterval() throws {
        #expect(try PrometheusConfig.parse("").evaluationInterval == 60_000)
        let dir = NSTemporaryDirectory() + "sextant-rules-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "global: {evaluation_interval: 15s}\nrule_files: [a.yml, '/etc/r/*.yml']\n".write(toFile: dir + "/p.yml", atomically: true, encoding: .utf8)
        let config = try PrometheusConfig.load(file: dir + "/p.yml")
        #expect(config.evaluationInterval == 15_000)
        #expect(config.ruleFiles == [dir + "/a.yml", "/etc/r/*.yml"])
        #expect(throws: ConfigError.self) { try PrometheusConfig.parse("rule_files: ['']") }
        #expect(throws: ConfigError.self) { try PrometheusConfig.parse("global: {evaluation_interval: soon}") }
    }

    @Test func fileDiscoveryReadsJSONAndYAML() throws {
        let dir = NSTemporaryDirectory() + "sextant-filesd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try #"[{"targets": ["x:1", "y:2"], "labels": {"team": "a"}}]"#.write(toFile: dir + "/a.json", atomically: true, encoding: .utf8)
        try "- targets: ['z:3']\n".write(toFile: dir + "/b.yml", atomically: true, encoding: .utf8)
        let c = try PrometheusConfig.parse("scrape_configs:\n  - job_name: f\n    file_sd_configs:\n      - files: ['\(dir)/*.json', '\(dir)/b.yml']\n")
        let targets = c.jobs[0].targets().active
        #expect(targets.map(\.url) == ["http://x:1/metrics", "http://y:2/metrics", "http://z:3/metrics"])
        #expect(targets[0].labels["team"] == "a")
        #expect(c.jobs[0].targets().active[0].discoveredLabels["__meta_filepath"] == dir + "/a.json")
    }

    /// Every field of kubernetes_sd_configs is read, and the roles Prometheus' charts use load.
    @Test func kubernetesSDConfigFields() throws {
        let c = try PrometheusConfig.parse("""
        scrape_configs:
          - job_name: k
            bearer_token: scrape-secret
            kubernetes_sd_configs:
              - role: endpointslice
                api_server: https://10.0.0.1:6443
                authorization: {type: Bearer, credentials_file: /var/run/token}
                tls_config: {ca_file: /ca.crt, server_name: kubernetes.default.svc, insecure_skip_verify: false}
                follow_redirects: false
                namespaces: {names: [a, b]}
                selectors: [{role: pod, label: "app=web", field: "status.phase=Running"}, {role: endpointslice, label: "x=y"}]
                attach_metadata: {node: true}
              - role: node
              - {role: ingress, kubeconfig_file: /kube/config}
              - role: service
                basic_auth: {username: u, password: p}
                api_server: http://127.0.0.1:8001
        """)
        let sd = c.jobs[0].kubernetesSD
        #expect(sd.map(\.role) == [.endpointslice, .node, .ingress, .service])
        #expect(sd[0].apiServer == "https://10.0.0.1:6443" && sd[0].namespaces == ["a", "b"] && sd[0].attachNodeMetadata)
        #expect(sd[0].http.credentials == .authorization(type: "Bearer", credentials: .file("/var/run/token")))
        #expect(sd[0].http.tls.serverName == "kubernetes.default.svc" && !sd[0].http.followRedirects)
        #expect(sd[0].selector(for: .pod)?.field == "status.phase=Running" && sd[0].selector(for: .endpointslice)?.label == "x=y")
        #expect(sd[2].kubeconfigFile == "/kube/config")
        #expect(sd[3].http.credentials == .basic(username: "u", password: .inline("p")))
        // The scrape job's credentials stay the job's.
        #expect(c.jobs[0].http.credentials == .authorization(type: "Bearer", credentials: .inline("scrape-secret")))
        #expect(sd.allSatisfy { $0.http.credentials != c.jobs[0].http.credentials })
    }
}
