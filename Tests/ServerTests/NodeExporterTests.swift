import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Testing
import TestSupport
import PromQL
import Scrape
import TSDB

/// A real prometheus-node-exporter (Debian package, installed by .ci/run) on a loopback port,
/// scraped by a real scrape loop.
@Suite(.serialized) struct NodeExporterTests {
    @Test func scrapesNodeExporter() async throws {
        let binary = "/usr/bin/prometheus-node-exporter"
        try #require(FileManager.default.isExecutableFile(atPath: binary),
                     "prometheus-node-exporter is missing: apt-get install prometheus-node-exporter (.ci/run does)")
        let port = freePort()
        let exporter = Process()
        exporter.executableURL = URL(fileURLWithPath: binary)
        exporter.arguments = ["--web.listen-address=127.0.0.1:\(port)"]
        exporter.standardError = FileHandle.nullDevice
        exporter.standardOutput = FileHandle.nullDevice
        try exporter.run()
        defer { exporter.terminate(); exporter.waitUntilExit() }
        _ = await eventually(60, every: .milliseconds(50)) {
            guard let (_, r) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!) else { return false }
            return (r as? HTTPURLResponse)?.statusCode == 200
        }
        let head = Head()
        let manager = runningScrapeManager(storage: head)
        let target = try #require(ScrapeTarget.make(discovered: Labels(["__address__": "127.0.0.1:\(port)"]), job: "node",
                                                    scheme: "http", metricsPath: "/metrics", params: [:],
                                                    interval: 15_000, timeout: 10_000, relabel: []))
        let loop = ScrapeLoop(target: target, storage: head, client: manager.client, logger: Logger(label: "test"))
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        await loop.scrapeOnce(at: now)
        #expect(loop.health.health == "up", "\(loop.health.lastError)")
        guard case .vector(let cpu) = try Engine().instantQuery("node_cpu_seconds_total{mode=\"idle\"}", at: now, on: head) else {
            Issue.record("no vector"); return
        }
        #expect(!cpu.isEmpty)
        let first = try #require(cpu.first)
        #expect(first.labels["cpu"] != nil && first.labels["job"] == "node" && first.labels["instance"] == "127.0.0.1:\(port)")
        guard case .vector(let up) = try Engine().instantQuery("up{job=\"node\"}", at: now, on: head) else { return }
        #expect(up.first?.v == 1)
        guard case .vector(let added) = try Engine().instantQuery("scrape_samples_scraped", at: now, on: head) else { return }
        #expect((added.first?.v ?? 0) > 100)
        #expect(loop.metadata["node_cpu_seconds_total"]?.type == "counter")
        await manager.shutdown()
    }
}
