import Foundation
import Testing
@testable import Server

/// Queries built to crash, hang or exhaust the server: each gets a typed error (400 bad_data
/// or 422 execution, as Prometheus answers), and the server keeps answering.
@Suite(.serialized) struct HostileQueryTests {
    static let chain = (0..<100_000).map { _ in "1" }.joined(separator: "-")
    static let subqueryChain = "up" + String(repeating: "[1m:]", count: 5_000)

    /// (form parameters of /api/v1/query or query_range, expected status, expected errorType)
    static let cases: [(path: String, form: [(String, String)], status: Int, type: String)] = [
        ("/api/v1/query", [("query", chain)], 400, "bad_data"),
        ("/api/v1/query", [("query", subqueryChain)], 400, "bad_data"),
        ("/api/v1/query", [("query", String(repeating: "(", count: 100_000) + "1" + String(repeating: ")", count: 100_000))], 400, "bad_data"),
        ("/api/v1/query_range", [("query", "up"), ("start", "-9e15"), ("end", "9e15"), ("step", "1")], 400, "bad_data"),
        ("/api/v1/query_range", [("query", "up"), ("start", "0"), ("end", "9e18"), ("step", "1e18")], 400, "bad_data"),
        ("/api/v1/query", [("query", "up"), ("time", "-9.2e18")], 400, "bad_data"),
        ("/api/v1/query", [("query", "up offset -292471208y")], 400, "bad_data"),
        ("/api/v1/query", [("query", "rate(up[292471208y] offset 292471208y)")], 400, "bad_data"),
        ("/api/v1/query", [("query", "up @ 9.3e15")], 400, "bad_data"),
        ("/api/v1/query", [("query", "count_over_time(vector(1)[1y:1ms])")], 422, "execution"),
        ("/api/v1/query", [("query", "count_over_time(count_over_time(vector(1)[1d:1ms])[1d:1ms])")], 422, "execution"),
        ("/api/v1/query_range", [("query", "up offset 292y"), ("start", "-9e12"), ("end", "9e12"), ("step", "5e9")], 200, ""),
    ]

    @Test func hostileQueriesGetTypedErrorsAndTheServerStaysUp() async throws {
        let s = try await RunningServer.start()
        defer { Task { await s.stop() } }
        _ = try await s.post("/api/v1/import/prometheus", body: "up 1\n")
        for c in Self.cases {
            let reply = try await s.post(c.path, form: c.form)
            let described = "\(c.path) \(c.form.map { "\($0.0)=\($0.1.prefix(60))" })"
            #expect(reply.status == c.status, "\(described): \(reply.status) \(reply.text.prefix(300))")
            if !c.type.isEmpty {
                #expect(reply.json["errorType"] as? String == c.type, "\(described): \(reply.text.prefix(300))")
            }
            #expect(try await s.get("/-/healthy").status == 200, "after \(described)")
        }
        // History intact and queries still answered.
        let up = try await s.get("/api/v1/query?query=up")
        #expect(up.status == 200 && up.text.contains("\"1\""))
    }
}
