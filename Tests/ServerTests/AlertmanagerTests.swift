import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// `sextant serve` with Debian's Alertmanager 0.25, started for real: an alert goes pending,
/// fires, reaches Alertmanager with its templates expanded and the external labels, and
/// resolves when a reload changes its rule; a restart in the middle of `for` keeps the time
/// already spent pending.
@Suite(.enabled(if: AlertmanagerProcess.isInstalled)) struct AlertmanagerTests {
    func write(_ dir: String, rules: String, alertmanager: Int) throws {
        try rules.write(toFile: dir + "/rules.yml", atomically: true, encoding: .utf8)
        try """
        global: {evaluation_interval: 1s, external_labels: {cluster: eu-1}}
        rule_files: [rules.yml]
        alerting:
          alertmanagers:
            - static_configs: [{targets: ['127.0.0.1:\(alertmanager)']}]
        """.write(toFile: dir + "/prometheus.yml", atomically: true, encoding: .utf8)
    }

    func get(_ url: String) async throws -> [String: Any] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: url)!)
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["data"] as? [String: Any] ?? [:]
    }

    func states(_ server: ServerProcess) async -> [String] {
        let alerts = (try? await get(server.url + "/api/v1/alerts"))?["alerts"] as? [[String: Any]] ?? []
        return alerts.compactMap { $0["state"] as? String }
    }

    @Test func alertGoesPendingFiresReachesAlertmanagerAndResolves() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let am = try AlertmanagerProcess()
        try await am.waitReady()
        try write(dir, rules: """
            groups:
              - name: g
                rules:
                  - alert: Always
                    expr: vector(42)
                    for: 3s
                    labels: {severity: '{{ if gt $value 10.0 }}page{{ else }}ticket{{ end }}'}
                    annotations: {summary: 'value {{ $value }} in {{ $externalLabels.cluster }}'}
            """, alertmanager: am.port)
        let server = try ServerProcess(directory: dir + "/data", port: freePort(),
                                       arguments: ["--config.file", dir + "/prometheus.yml", "--web.enable-lifecycle",
                                                   "--rules.alert.resend-delay", "1s"])
        try await server.waitReady()
        let pending = await eventually(15, every: .milliseconds(100)) { await states(server) == ["pending"] }
        #expect(pending, "never pending")
        let firing = await eventually(15, every: .milliseconds(200)) { await states(server) == ["firing"] }
        #expect(firing, "never firing")
        let received = await eventually(20, every: .milliseconds(200)) {
            ((try? await am.alerts()) ?? []).contains {
                ($0["labels"] as? [String: String]) == ["alertname": "Always", "severity": "page", "cluster": "eu-1"]
                    && ($0["annotations"] as? [String: String]) == ["summary": "value 42 in eu-1"]
            }
        }
        #expect(received, "Alertmanager has no Always alert")
        let generator = try await am.alerts().first?["generatorURL"] as? String
        #expect(generator?.hasSuffix("/graph?g0.expr=vector%2842%29&g0.tab=1") == true, "\(generator ?? "")")
        let metrics = String(decoding: try await URLSession.shared.data(from: URL(string: server.url + "/metrics")!).0, as: UTF8.self)
        #expect(metrics.contains("sextant_notifications_alertmanagers_discovered 1"))
        let am2 = try await get(server.url + "/api/v1/alertmanagers")["activeAlertmanagers"] as? [[String: String]]
        #expect(am2 == [["url": "http://127.0.0.1:\(am.port)/api/v2/alerts"]])

        // The rule changes and its alert is gone: resolved, sent as resolved, off Alertmanager's list.
        try write(dir, rules: """
            groups:
              - name: g
                rules:
                  - alert: Always
                    expr: vector(42) > 100
                    for: 3s
                    labels: {severity: '{{ if gt $value 10.0 }}page{{ else }}ticket{{ end }}'}
            """, alertmanager: am.port)
        var request = URLRequest(url: URL(string: server.url + "/-/reload")!)
        request.httpMethod = "POST"
        _ = try await URLSession.shared.data(for: request)
        let resolved = await eventually(20, every: .milliseconds(200)) { (try? await am.alerts())?.isEmpty == true }
        #expect(resolved, "the alert did not resolve in Alertmanager")
        #expect(await states(server).isEmpty)
        #expect(await server.terminate() == 0)
        _ = await am.terminate()
    }

    /// Pending for about 17 of its 40 seconds, the server stops for a few: after the restart
    /// the alert goes on from there (its ALERTS_FOR_STATE moves by the outage), not from zero.
    @Test func restartKeepsTheTimeSpentPending() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let am = try AlertmanagerProcess()
        try await am.waitReady()
        try write(dir, rules: "groups:\n  - name: g\n    rules:\n      - {alert: Slow, expr: vector(1), for: 40s}\n", alertmanager: am.port)
        let port = freePort()
        let arguments = ["--config.file", dir + "/prometheus.yml", "--rules.alert.for-grace-period", "1s"]
        func activeAt(_ url: String) async -> Double? {
            (try? await rawSamples(url, "ALERTS_FOR_STATE"))?["__name__=ALERTS_FOR_STATE,alertname=Slow"]?.values.first.flatMap(Double.init)
        }
        var server = try ServerProcess(directory: dir + "/data", port: port, arguments: arguments)
        try await server.waitReady()
        var first: Double?
        let written = await eventually(15, every: .milliseconds(200)) { first = await activeAt(server.url); return first != nil }
        #expect(written, "no ALERTS_FOR_STATE")
        guard let first else { return }
        try await Task.sleep(for: .seconds(15))
        #expect(await server.terminate() == 0)
        try await Task.sleep(for: .seconds(3))
        let restart = Date().timeIntervalSince1970
        server = try ServerProcess(directory: dir + "/data", port: port, arguments: arguments)
        try await server.waitReady()
        var restored: Double?
        let moved = await eventually(20, every: .milliseconds(200)) {
            restored = await activeAt(server.url)
            return restored.map { $0 != first } ?? false
        }
        #expect(moved, "ALERTS_FOR_STATE not written after the restart")
        guard let restored else { return }
        // Restored: the outage added to the old start, well before the restart (about 17 s of
        // pending less the restart's own seconds); a fresh start would be at or after it.
        #expect(restored > first && restored <= restart - 8, "first \(first), restored \(restored), restart \(restart)")
        #expect(await states(server) == ["pending"])
        #expect(await server.terminate() == 0)
        _ = await am.terminate()
    }
}
