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
        #expect(t.authorization == "Basic dTpw")
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
        ("scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - role: node\n", "scrape_configs[0].kubernetes_sd_configs[0].role"),
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
}
