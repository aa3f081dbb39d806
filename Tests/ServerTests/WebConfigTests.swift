import AsyncHTTPClient
import Foundation
import HummingbirdBcrypt
import NIOCore
import NIOSSL
import Testing
import TestSupport
@testable import Server

/// `--web.config.file`: Prometheus' web configuration, parsed strictly, and TLS, basic auth
/// and headers in front of every endpoint of a running server.
@Suite(.serialized) struct WebConfigTests {
    static let hash = Bcrypt.hash("s3cret", cost: 4)

    @Test func parsesPrometheusWebConfig() throws {
        let config = try WebConfig.parse("""
            tls_server_config:
              cert_file: certs/server.crt
              key_file: /abs/server.key
              client_auth_type: RequireAndVerifyClientCert
              client_ca_file: ca.crt
              min_version: TLS12
            basic_auth_users:
              alice: \(Self.hash)
            http_server_config:
              headers:
                X-Frame-Options: deny
            """, directory: "/etc/sextant")
        #expect(config.tls?.certFile == "/etc/sextant/certs/server.crt")
        #expect(config.tls?.keyFile == "/abs/server.key")
        #expect(config.tls?.clientCAFile == "/etc/sextant/ca.crt")
        #expect(config.tls?.clientAuth == .requireAndVerify)
        #expect(config.tls?.minVersion == .tlsv12)
        #expect(config.basicAuthUsers == ["alice": Self.hash])
        #expect(config.headers == ["X-Frame-Options": "deny"])
        #expect(try WebConfig.parse("", directory: ".") == WebConfig())
    }

    @Test(arguments: [
        ("tls_server_config:\n  cert_file: a\n", "tls_server_config"),
        ("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequestClientCert\n", "tls_server_config.client_auth_type"),
        ("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: VerifyClientCertIfGiven\n", "tls_server_config.client_ca_file"),
        ("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: SSL3\n", "tls_server_config.min_version"),
        ("tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suitez: []\n", "tls_server_config.cipher_suitez"),
        ("basic_auth_users:\n  bob: plaintext\n", "basic_auth_users.bob"),
        ("basic_auth_user:\n  bob: x\n", "basic_auth_user"),
    ] as [(String, String)])
    func badConfigsSayWhere(_ yaml: String, _ path: String) {
        do {
            _ = try WebConfig.parse(yaml, directory: ".")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.path == path, "\(error)")
        }
    }

    /// A server behind TLS and basic auth: plain HTTP and missing or wrong credentials get
    /// nothing; the right ones get every endpoint, with the configured headers; the server's
    /// own scrape of /metrics gets through (with its own token), so `up` is 1.
    @Test func tlsAndBasicAuthGuardEveryEndpoint() async throws {
        let dir = NSTemporaryDirectory() + "sextant-web-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await makeSelfSignedCertificate(in: dir)
        try """
            tls_server_config:
              cert_file: cert.pem
              key_file: key.pem
            basic_auth_users:
              alice: \(Self.hash)
            http_server_config:
              headers:
                X-Frame-Options: deny
            """.write(toFile: dir + "/web.yml", atomically: true, encoding: .utf8)
        let web = try WebConfig.load(file: dir + "/web.yml")
        let s = try await RunningServer.start(selfScrapeInterval: 500, scraping: true) { $0.webConfig = web }
        defer { Task { await s.stop() } }

        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(dir + "/cert.pem")
        var config = HTTPClient.Configuration(tlsConfiguration: tls)
        config.timeout = .init(connect: .seconds(5), read: .seconds(30))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        defer { Task { try? await client.shutdown() } }
        func get(_ path: String, scheme: String = "https", auth: String? = nil) async throws -> HTTPClientResponse {
            var request = HTTPClientRequest(url: "\(scheme)://127.0.0.1:\(s.port)\(path)")
            if let auth { request.headers.add(name: "Authorization", value: "Basic " + Data(auth.utf8).base64EncodedString()) }
            return try await client.execute(request, timeout: .seconds(30))
        }

        let anonymous = try await get("/-/healthy")
        #expect(anonymous.status == .unauthorized)
        #expect(anonymous.headers.first(name: "WWW-Authenticate") == "Basic")
        #expect(try await get("/api/v1/query?query=1", auth: "alice:wrong").status == .unauthorized)
        #expect(try await get("/api/v1/query?query=1", auth: "mallory:s3cret").status == .unauthorized)
        #expect(try await get("/-/healthy", auth: "alice").status == .unauthorized)
        let ok = try await get("/api/v1/query?query=1", auth: "alice:s3cret")
        #expect(ok.status == .ok)
        #expect(ok.headers.first(name: "X-Frame-Options") == "deny")
        await #expect(throws: (any Error).self) { _ = try await get("/-/healthy", scheme: "http", auth: "alice:s3cret") }

        // Its own scrape goes through TLS and auth.
        var up = ""
        for _ in 0..<100 where !up.contains("\"1\"") {
            try await Task.sleep(for: .milliseconds(100))
            let r = try await get("/api/v1/query?query=up", auth: "alice:s3cret")
            up = String(buffer: try await r.body.collect(upTo: 1 << 20))
        }
        #expect(up.contains("\"job\":\"sextant\"") && up.contains("\"1\""), "\(up)")
    }
}
