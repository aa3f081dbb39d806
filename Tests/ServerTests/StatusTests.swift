import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import Server

@Suite(.serialized) struct StatusTests {
    @Test func statusMetadataFederationAndGzip() async throws {
        let s = try await RunningServer.start()
        defer { Task { await s.stop() } }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let body = """
        # HELP jobs_total Jobs done.\\nPer worker.
        # TYPE jobs_total counter
        jobs_total{worker="a"} 5 \(now - 10_000)
        jobs_total{worker="b"} 7 \(now - 5_000)
        # TYPE queue_depth gauge
        queue_depth 3 \(now - 1_000)
        """
        _ = try await s.post("/api/v1/import/prometheus", body: body)

        let tsdb = try await s.get("/api/v1/status/tsdb")
        let data = tsdb.json["data"] as? [String: Any]
        let head = data?["headStats"] as? [String: Any]
        #expect(head?["numSeries"] as? Int == 3)
        #expect(head?["chunkCount"] as? Int == 3)
        #expect(head?["minTime"] as? Int64 == now - 10_000)
        let byName = data?["seriesCountByMetricName"] as? [[String: Any]]
        #expect(byName?.first?["name"] as? String == "jobs_total" && byName?.first?["value"] as? Int == 2)
        #expect((data?["seriesCountByLabelValuePair"] as? [[String: Any]])?.contains { $0["name"] as? String == "worker=a" } == true)
        #expect(data?["labelValueCountByLabelName"] != nil && data?["memoryInBytesByLabelName"] != nil)

        let metadata = try await s.get("/api/v1/metadata")
        #expect(metadata.text == #"{"status":"success","data":{"jobs_total":[{"type":"counter","help":"Jobs done.\nPer worker.","unit":""}],"queue_depth":[{"type":"gauge","help":"","unit":""}]}}"#)
        let one = try await s.get("/api/v1/metadata?metric=queue_depth")
        #expect(one.text.contains("queue_depth") && !one.text.contains("jobs_total"))

        let federate = try await s.get("/federate?match%5B%5D=\(q("{__name__=~\"jobs_total|queue_depth\"}"))")
        #expect(federate.text == """
        # TYPE jobs_total untyped
        jobs_total{worker="a"} 5 \(now - 10_000)
        jobs_total{worker="b"} 7 \(now - 5_000)
        # TYPE queue_depth untyped
        queue_depth 3 \(now - 1_000)

        """)

        let flags = try await s.get("/api/v1/status/flags")
        #expect(flags.json["status"] as? String == "success")
        let runtime = try await s.get("/api/v1/status/runtimeinfo")
        #expect(((runtime.json["data"] as? [String: Any])?["storageRetention"] as? String) == "2w1d")
        let config = try await s.get("/api/v1/status/config")
        #expect(config.text == #"{"status":"success","data":{"yaml":""}}"#)

        let ready = try await s.get("/-/ready")
        #expect(ready.status == 200)
        var reload = URLRequest(url: URL(string: "http://127.0.0.1:\(s.port)/-/reload")!)
        reload.httpMethod = "POST"
        #expect(try await s.send(reload).status == 200)

        // gzip on request: the body decompresses to the plain answer.
        var zipped = URLRequest(url: URL(string: "http://127.0.0.1:\(s.port)/api/v1/label/worker/values")!)
        zipped.setValue("gzip", forHTTPHeaderField: "Accept-Encoding")
        let reply = try await s.send(zipped)
        let text = String(decoding: reply.body, as: UTF8.self)
        // URLSession may inflate transparently; either way the content is the same.
        let plain = text.hasPrefix("{") ? text : String(decoding: gunzip(Array(reply.body)) ?? [], as: UTF8.self)
        #expect(plain == #"{"status":"success","data":["a","b"]}"#)
        #expect(gunzip(gzip(Array(plain.utf8)) ?? []) == Array(plain.utf8))
    }

    @Test func notReadyUntilTheStoreIsOpen() async throws {
        var options = ServerOptions()
        options.host = "127.0.0.1"
        options.port = 0
        options.dataDirectory = NSTemporaryDirectory() + "sextant-notready-\(UUID().uuidString)"
        let server = SextantServer(options: options, logger: .init(label: "test"))
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = try server.application { continuation.yield($0) }
        let task = LoopbackServer(app)
        var port = 0
        for await p in stream { port = p; break }
        let base = "http://127.0.0.1:\(port)"
        let (_, notReady) = try await URLSession.shared.data(from: URL(string: base + "/-/ready")!)
        #expect((notReady as? HTTPURLResponse)?.statusCode == 503)
        let (body, unavailable) = try await URLSession.shared.data(from: URL(string: base + "/api/v1/query?query=1")!)
        #expect((unavailable as? HTTPURLResponse)?.statusCode == 503)
        #expect(String(decoding: body, as: UTF8.self).contains("\"errorType\":\"unavailable\""))
        let (_, healthy) = try await URLSession.shared.data(from: URL(string: base + "/-/healthy")!)
        #expect((healthy as? HTTPURLResponse)?.statusCode == 200)
        try server.openStorage()
        let (_, ready) = try await URLSession.shared.data(from: URL(string: base + "/-/ready")!)
        #expect((ready as? HTTPURLResponse)?.statusCode == 200)
        await task.stop()
        server.db?.close()
        try? FileManager.default.removeItem(atPath: options.dataDirectory)
    }

    /// /api/v1/status/config shows the configuration with every secret as `<secret>`.
    @Test func configurationIsShownWithoutSecrets() async throws {
        let file = NSTemporaryDirectory() + "sextant-secrets-\(UUID().uuidString).yml"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try """
        scrape_configs:
          - job_name: a
            basic_auth: {username: alice, password: hunter2}
            static_configs: [{targets: ['127.0.0.1:1']}]
          - job_name: b
            authorization: {type: Bearer, credentials: "tok-123"}
            bearer_token: old-token-456
            kubernetes_sd_configs:
              - role: pod
                basic_auth: {username: bob, password: "s3cret"}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let s = try await RunningServer.start { $0.configFile = file }
        defer { Task { await s.stop() } }
        let reply = try await s.get("/api/v1/status/config")
        let yaml = (reply.json["data"] as? [String: Any])?["yaml"] as? String ?? ""
        for secret in ["hunter2", "tok-123", "old-token-456", "s3cret"] {
            #expect(!reply.text.contains(secret), "\(secret) shown")
        }
        #expect(yaml.components(separatedBy: "<secret>").count == 5)
        #expect(yaml.contains("alice") && yaml.contains("bob") && yaml.contains("job_name: b"))
    }

    /// Without --web.enable-lifecycle, reload and quit answer 403 and do nothing.
    @Test func lifecycleEndpointsNeedTheFlag() async throws {
        let s = try await RunningServer.start { $0.enableLifecycle = false }
        defer { Task { await s.stop() } }
        for path in ["/-/reload", "/-/quit"] {
            let reply = try await s.post(path, body: "")
            #expect(reply.status == 403, "\(path)")
            #expect(reply.text == "Lifecycle API is not enabled.\n")
        }
        #expect(try await s.get("/-/healthy").status == 200)
    }
}
