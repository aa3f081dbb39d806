import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import Alerting
import Logging
import Rules
@testable import Scrape
import Storage
import Testing
import TestSupport

/// Alerts reach Alertmanager as Prometheus' notifier sends them: the v2 JSON, the external
/// labels and relabeling, the bounded queue, the Alertmanagers a configuration names.
@Suite struct NotifierTests {
    static func alert(_ name: String, startsAt: Int64 = 1_700_000_000_123, endsAt: Int64 = 1_700_000_240_123) -> AlertNotification {
        AlertNotification(labels: Labels(["alertname": name, "job": "api"]), annotations: ["summary": "down"],
                          startsAt: startsAt, endsAt: endsAt, generatorURL: "http://sextant:9090/graph?g0.expr=up&g0.tab=1")
    }

    @Test func payloadIsAlertmanagersJSON() throws {
        let v2 = String(decoding: AlertPayload.encode([Self.alert("A")], apiVersion: "v2"), as: UTF8.self)
        #expect(v2 == #"[{"annotations":{"summary":"down"},"endsAt":"2023-11-14T22:17:20.123Z","generatorURL":"http://sextant:9090/graph?g0.expr=up&g0.tab=1","labels":{"alertname":"A","job":"api"},"startsAt":"2023-11-14T22:13:20.123Z"}]"#)
        var bare = Self.alert("B")
        bare.annotations = [:]
        bare.generatorURL = ""
        let v2Bare = String(decoding: AlertPayload.encode([bare], apiVersion: "v2"), as: UTF8.self)
        #expect(!v2Bare.contains("annotations") && !v2Bare.contains("generatorURL"))
        #expect(String(decoding: AlertPayload.encode([bare], apiVersion: "v1"), as: UTF8.self).contains(#""annotations":{}"#))
        #expect(AlertPayload.time(0) == "1970-01-01T00:00:00.000Z" && AlertPayload.time(-1) == "1969-12-31T23:59:59.999Z")
    }

    /// A full queue drops its oldest alerts; a batch larger than the queue keeps its newest.
    @Test func queueDropsTheOldest() {
        var q = NotificationQueue(capacity: 3)
        q.push((0..<2).map { Self.alert("a\($0)") })
        q.push((2..<4).map { Self.alert("a\($0)") })
        #expect(q.items.map { $0.labels["alertname"] } == ["a1", "a2", "a3"] && q.dropped == 1)
        q.push((4..<9).map { Self.alert("a\($0)") })
        #expect(q.items.map { $0.labels["alertname"] } == ["a6", "a7", "a8"] && q.dropped == 6)
        #expect(q.take(2).count == 2 && q.items.count == 1)
    }

    @Test func configurationNamesAlertmanagers() throws {
        let config = try PrometheusConfig.parse("""
            alerting:
              alert_relabel_configs:
                - {source_labels: [severity], regex: none, action: drop}
              alertmanagers:
                - static_configs: [{targets: ['127.0.0.1:9093', 'am-2:9093']}]
                  path_prefix: /am/
                  timeout: 3s
                - scheme: https
                  api_version: v1
                  static_configs: [{targets: ['a:1', 'b:2']}]
                  relabel_configs:
                    - {source_labels: [__address__], regex: 'b:.*', action: drop}
            """)
        #expect(config.alerting.alertRelabel.count == 1 && config.alerting.alertmanagers.count == 2)
        let first = config.alerting.alertmanagers[0]
        #expect(first.timeout == 3000 && first.alertsPath == "/am/api/v2/alerts")
        #expect(first.alertmanagers().active == ["http://127.0.0.1:9093/am/api/v2/alerts", "http://am-2:9093/am/api/v2/alerts"])
        let second = config.alerting.alertmanagers[1].alertmanagers()
        #expect(second.active == ["https://a:1/api/v1/alerts"] && second.dropped.count == 1)
        for (bad, message) in [
            ("alerting: {alertmanagers: [{api_version: v3}]}", "expected Alertmanager api version to be one of [v1 v2] but got v3"),
            ("alerting: {alertmanagers: [{static_configs: [{targets: ['http://x:1']}]}]}", "\"http://x:1\" is not a valid hostname"),
            ("alerting: {alertmanagers: [{kubernetes_sd_configs: [{role: pod}]}]}", "kubernetes_sd_configs is not supported"),
            ("alerting: {alert_relabel_configs: [null]}", "empty or null alert relabeling rule"),
        ] {
            #expect(throws: ConfigError.self) { try PrometheusConfig.parse(bad) }
            do { _ = try PrometheusConfig.parse(bad) } catch { #expect(error.description.contains(message), "\(error)") }
        }
    }

    /// External labels go on alerts that lack them, relabeling drops some; with nowhere to
    /// send, every alert counts as dropped.
    @Test func labelsAndDropsWithoutAlertmanagers() async throws {
        let notifier = Notifier(logger: Logger(label: "test"))
        var alerting = AlertingConfig()
        alerting.alertRelabel = [try RelabelConfig(sourceLabels: ["alertname"], regex: "Quiet", action: .drop)]
        notifier.apply(alerting, externalLabels: Labels(["cluster": "eu", "job": "ignored"]))
        notifier.start()
        notifier.send([Self.alert("Loud"), Self.alert("Quiet")])
        let dropped = await eventually(10) { notifier.renderMetrics().contains("sextant_notifications_dropped_total 1\n") }
        #expect(dropped, "\(notifier.renderMetrics())")
        #expect(notifier.renderMetrics().contains("sextant_notifications_queue_length 0\n"))
        await notifier.stop()
    }

    /// Alerts POSTed to Debian's Alertmanager 0.25 are listed by its API with the labels,
    /// annotations and times sent; resolved ones leave the list.
    @Test(.enabled(if: AlertmanagerProcess.isInstalled))
    func alertmanagerTakesTheAlerts() async throws {
        let am = try AlertmanagerProcess()
        try await am.waitReady()
        let notifier = Notifier(logger: Logger(label: "test"))
        var alerting = AlertingConfig()
        var set = AlertmanagerConfig()
        set.staticConfigs = [(["127.0.0.1:\(am.port)"], .empty)]
        alerting.alertmanagers = [set]
        notifier.apply(alerting, externalLabels: Labels(["cluster": "eu"]))
        notifier.start()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        notifier.send([Self.alert("Firing", startsAt: now - 60_000, endsAt: now + 240_000)])
        let listed = await eventually(20, every: .milliseconds(200)) {
            let alerts = (try? await am.alerts()) ?? []
            return alerts.contains { ($0["labels"] as? [String: String]) == ["alertname": "Firing", "job": "api", "cluster": "eu"] }
        }
        #expect(listed)
        let alert = try await am.alerts().first
        #expect((alert?["annotations"] as? [String: String]) == ["summary": "down"])
        #expect(alert?["startsAt"] as? String == AlertPayload.time(now - 60_000))
        #expect(notifier.renderMetrics().contains("sextant_notifications_sent_total{alertmanager=\"http://127.0.0.1:\(am.port)/api/v2/alerts\"} 1"))
        notifier.send([Self.alert("Firing", startsAt: now - 60_000, endsAt: now - 1000)])
        let resolved = await eventually(20, every: .milliseconds(200)) { (try? await am.alerts())?.isEmpty == true }
        #expect(resolved)
        await notifier.stop()
        _ = await am.terminate()
    }

    /// An Alertmanager behind basic auth (its web configuration) takes alerts from a set with
    /// the credentials, found through file discovery; a set without them fails, is retried
    /// and its batch dropped.
    @Test(.enabled(if: AlertmanagerProcess.isInstalled))
    func credentialsFileDiscoveryAndRetries() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let am = try AlertmanagerProcess(basicAuth: true)
        try await am.waitAnswering()
        try #"[{"targets": ["127.0.0.1:\#(am.port)"], "labels": {"dc": "x"}}]"#
            .write(toFile: dir + "/am.json", atomically: true, encoding: .utf8)
        let config = try PrometheusConfig.parse("""
            alerting:
              alertmanagers:
                - file_sd_configs: [{files: ['\(dir)/*.json'], refresh_interval: 1s}]
                  basic_auth: {username: \(AlertmanagerProcess.basicAuthUser), password: \(AlertmanagerProcess.basicAuthPassword)}
            """)
        #expect(config.alerting.alertmanagers[0].alertmanagers().active == ["http://127.0.0.1:\(am.port)/api/v2/alerts"])
        var options = Notifier.Options()
        options.retryBackoff = .milliseconds(10)
        let notifier = Notifier(options: options, logger: Logger(label: "test"))
        notifier.apply(config.alerting, externalLabels: .empty)
        notifier.start()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        notifier.send([Self.alert("WithCredentials", startsAt: now, endsAt: now + 240_000)])
        let listed = await eventually(20, every: .milliseconds(200)) {
            ((try? await am.alerts()) ?? []).contains { ($0["labels"] as? [String: String])?["alertname"] == "WithCredentials" }
        }
        #expect(listed)

        var bare = config.alerting
        bare.alertmanagers[0].http = HTTPClientSettings()
        notifier.apply(bare, externalLabels: .empty)
        notifier.send([Self.alert("WithoutCredentials", startsAt: now, endsAt: now + 240_000)])
        let url = "http://127.0.0.1:\(am.port)/api/v2/alerts"
        let failed = await eventually(20, every: .milliseconds(100)) {
            let m = notifier.renderMetrics()
            return m.contains("sextant_notifications_dropped_total 1\n") && m.contains("sextant_notifications_errors_total{alertmanager=\"\(url)\"} 4\n")
        }
        #expect(failed, "\(notifier.renderMetrics())")
        #expect(notifier.renderMetrics().contains("sextant_notifications_retries_total 3\n"))
        #expect(!((try? await am.alerts()) ?? []).contains { ($0["labels"] as? [String: String])?["alertname"] == "WithoutCredentials" })
        await notifier.stop()
        _ = await am.terminate()
    }

    /// An Alertmanager answering HTTPS only: a set with `scheme: https` and the certificate's
    /// CA delivers; one that does not trust the certificate fails.
    @Test(.enabled(if: AlertmanagerProcess.isInstalled))
    func tlsToAlertmanager() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await makeSelfSignedCertificate(in: dir)
        let am = try AlertmanagerProcess(tls: dir)
        func notifier(trusting: Bool) throws -> Notifier {
            let config = try PrometheusConfig.parse("""
                alerting:
                  alertmanagers:
                    - scheme: https
                      static_configs: [{targets: ['127.0.0.1:\(am.port)']}]
                      \(trusting ? "tls_config: {ca_file: \(dir)/cert.pem}" : "")
                """)
            var options = Notifier.Options()
            options.retries = 0
            let n = Notifier(options: options, logger: Logger(label: "test"))
            n.apply(config.alerting, externalLabels: .empty)
            n.start()
            return n
        }
        let url = "https://127.0.0.1:\(am.port)/api/v2/alerts"
        let trusted = try notifier(trusting: true), untrusted = try notifier(trusting: false)
        // Sent until Alertmanager is up and takes one.
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let delivered = await eventually(30, every: .milliseconds(300)) {
            trusted.send([Self.alert("Secure", startsAt: now, endsAt: now + 240_000)])
            return trusted.renderMetrics().contains("sextant_notifications_sent_total{alertmanager=\"\(url)\"} ")
                && !trusted.renderMetrics().contains("sextant_notifications_sent_total{alertmanager=\"\(url)\"} 0\n")
        }
        #expect(delivered, "\(trusted.renderMetrics())")
        untrusted.send([Self.alert("Insecure", startsAt: now, endsAt: now + 240_000)])
        let refused = await eventually(20, every: .milliseconds(100)) {
            untrusted.renderMetrics().contains("sextant_notifications_errors_total{alertmanager=\"\(url)\"} 1\n")
        }
        #expect(refused, "\(untrusted.renderMetrics())")
        #expect(untrusted.renderMetrics().contains("sextant_notifications_sent_total{alertmanager=\"\(url)\"} 0\n"))
        await trusted.stop()
        await untrusted.stop()
        _ = await am.terminate()
    }
}
