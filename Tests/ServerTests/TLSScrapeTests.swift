import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOSSL
import Testing
import TestSupport
import Scrape
import Synchronization
import TSDB

@Suite(.serialized) struct TLSScrapeTests {
    /// An https target with a self-signed certificate: trusted through ca_file, refused without
    /// it, accepted with insecure_skip_verify.
    @Test func tlsConfigAppliesToScrapes() async throws {
        let dir = NSTemporaryDirectory() + "sextant-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await makeSelfSignedCertificate(in: dir)

        let router = Router()
        router.get("/metrics") { _, _ in "secure_metric 1\n" }
        let (server, port) = try await startTLSLoopback(router, certificate: dir + "/cert.pem", key: dir + "/key.pem")
        defer { server.cancel() }

        let head = Head()
        let manager = runningScrapeManager(storage: head)
        func scrape(_ tls: ScrapeTLS?) async throws -> TargetHealth {
            var t = try #require(ScrapeTarget.make(discovered: Labels(["__address__": "127.0.0.1:\(port)"]), job: "tls", scheme: "https",
                                                   metricsPath: "/metrics", params: [:], interval: 15_000, timeout: 5_000, relabel: []))
            t.tls = tls
            let loop = ScrapeLoop(target: t, storage: head, client: manager.client(for: t), logger: Logger(label: "test"))
            await loop.scrapeOnce(at: 1_000)
            return loop.health
        }
        var trusted = ScrapeTLS()
        trusted.caFile = dir + "/cert.pem"
        #expect(try await scrape(trusted).health == "up")
        let untrusted = try await scrape(nil)
        #expect(untrusted.health == "down" && !untrusted.lastError.isEmpty)
        var insecure = ScrapeTLS()
        insecure.insecureSkipVerify = true
        #expect(try await scrape(insecure).health == "up")
        await manager.shutdown()
    }
}

extension TLSScrapeTests {
    /// `server_name`: a target whose certificate names only `kubernetes.default.svc`, reached
    /// at 127.0.0.1, is trusted with that server name and refused without it; the Host header
    /// still names the target's address.
    @Test func serverNameIsWhatTheCertificateIsCheckedAgainst() async throws {
        let ca = try await TestCA.shared.directory()
        let hosts = Mutex<[String]>([])
        let router = Router()
        router.get("/metrics") { request, _ in
            hosts.withLock { $0.append(request.head.authority ?? "") }
            return "named_metric 1\n"
        }
        let (server, port) = try await startTLSLoopback(router, certificate: ca + "/named.crt", key: ca + "/named.key")
        defer { server.cancel() }

        let head = Head()
        let manager = runningScrapeManager(storage: head)
        func scrape(serverName: String?) async throws -> TargetHealth {
            var t = try #require(ScrapeTarget.make(discovered: Labels(["__address__": "127.0.0.1:\(port)"]), job: "tls", scheme: "https",
                                                   metricsPath: "/metrics", params: [:], interval: 15_000, timeout: 5_000, relabel: []))
            var tls = ScrapeTLS()
            tls.caFile = ca + "/ca.crt"
            tls.serverName = serverName
            t.tls = tls
            let loop = ScrapeLoop(target: t, storage: head, client: manager.client(for: t), logger: Logger(label: "test"))
            await loop.scrapeOnce(at: 1_000)
            return loop.health
        }
        let named = try await scrape(serverName: "kubernetes.default.svc")
        #expect(named.health == "up", "\(named.lastError)")
        #expect(hosts.withLock { $0 } == ["127.0.0.1:\(port)"])
        let unnamed = try await scrape(serverName: nil)
        #expect(unnamed.health == "down" && !unnamed.lastError.isEmpty)
        let wrong = try await scrape(serverName: "other.example")
        #expect(wrong.health == "down")
        await manager.shutdown()
    }
}
