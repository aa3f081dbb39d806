import Foundation
import Testing
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real `promtool` (Debian package `prometheus`, 2.42) against the real server process.
@Suite(.serialized) struct PromtoolTests {
    func promtool(_ args: [String]) async throws -> (status: Int32, out: String) {
        let r = try await runProcess("/usr/bin/promtool", ["query"] + args)
        return (r.status, r.stdout + r.stderr)
    }

    @Test func promtoolQueriesTheServer() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool"),
                     "promtool is missing: apt-get install prometheus (.ci/run does)")
        let dir = NSTemporaryDirectory() + "sextant-promtool-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = freePort()
        let server = try ServerProcess(directory: dir, port: port)
        try await server.waitReady()
        let url = "http://127.0.0.1:\(port)"
        var r = URLRequest(url: URL(string: url + "/api/v1/import/prometheus")!)
        r.httpMethod = "POST"
        r.httpBody = Data("up{job=\"a\",instance=\"x\"} 1 1000000\nup{job=\"b\"} 0 1000000\nup{job=\"a\",instance=\"x\"} 1 1015000\n".utf8)
        _ = try await URLSession.shared.data(for: r)

        let instant = try await promtool(["instant", "--time=1010", url, "up"])
        #expect(instant.status == 0)
        #expect(instant.out == "up{instance=\"x\", job=\"a\"} => 1 @[1010]\nup{job=\"b\"} => 0 @[1010]\n")

        let range = try await promtool(["range", "--start=1000", "--end=1030", "--step=15s", url, "sum(up)"])
        #expect(range.status == 0)
        #expect(range.out == "{} =>\n1 @[1000]\n1 @[1015]\n1 @[1030]\n")

        let series = try await promtool(["series", "--match=up", "--start=900", "--end=1100", url])
        #expect(series.out == "{__name__=\"up\", instance=\"x\", job=\"a\"}\n{__name__=\"up\", job=\"b\"}\n")

        // The server scrapes itself (job "sextant") once its first interval comes round.
        let labels = try await promtool(["labels", url, "job"])
        #expect(labels.out.split(separator: "\n").filter { $0 != "sextant" } == ["a", "b"])

        // The server's own /metrics passes promtool's exposition checks.
        let (metricsBody, _) = try await URLSession.shared.data(from: URL(string: url + "/metrics")!)
        let check = try await runProcess("/usr/bin/promtool", ["check", "metrics"], input: metricsBody)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")

        let bad = try await promtool(["instant", "--time=1010", url, "sum("])
        #expect(bad.status != 0)
        #expect(bad.out.contains("bad_data: 1:5: parse error: unexpected end of input"))
        _ = await server.terminate()
    }
}
