import Foundation
import Testing
@testable import Server

/// Queries built to crash, hang or exhaust the server: each gets a typed error (400 bad_data
/// or 422 execution, as Prometheus answers), and the server keeps answering.
@Suite(.serialized) struct HostileQueryTests {
    static let chain = (0..<100_000).map { _ in "1" }.joined(separator: "-")
    static let subqueryChain = "up" + String(repeating: "[1m:]", count: 5_000)
    /// Each level doubles label `a`: 2^40 bytes at the top, unless a limit stops it.
    static let doubling = (0..<40).reduce(#"label_replace(vector(1), "a", "xxxxxxxx", "", "")"#) { inner, _ in
        #"label_replace(\#(inner), "a", "$1$1", "a", "(.*)")"#
    }
    static let backtracking = #"{__name__=~"(a|aa)+", job=~"(a|aa)+b"}"#

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
        ("/api/v1/query", [("query", doubling)], 422, "execution"),
        ("/api/v1/query", [("query", #"label_join(vector(1), "a", "\#(String(repeating: "-", count: 70_000))", "x", "y")"#)], 422, "execution"),
        ("/api/v1/query", [("query", backtracking)], 200, ""),
        ("/api/v1/query", [("query", #"label_replace(up, "x", "$1", "job", "(a|aa)+b")"#)], 200, ""),
        ("/api/v1/query", [("query", #"up{job=~"(?=lookahead)"}"#)], 400, "bad_data"),
        ("/api/v1/series", [("match[]", backtracking)], 200, ""),
        ("/api/v1/series", [("match[]", #"{job=~"a{1001}"}"#)], 400, "bad_data"),
        ("/api/v1/labels", [("match[]", backtracking)], 200, ""),
    ]

    @Test func hostileQueriesGetTypedErrorsAndTheServerStaysUp() async throws {
        try await InProcessServer.with { s in
            let long = String(repeating: "a", count: 40)
            _ = try await s.post("/api/v1/import/prometheus", body: "up 1\n\(long) 1\nm{job=\"\(long)\"} 1\n")
            for c in Self.cases {
                let reply = try await s.post(c.path, form: c.form)
                let described = "\(c.path) \(c.form.map { "\($0.0)=\($0.1.prefix(60))" })"
                #expect(reply.status == c.status, "\(described): \(reply.status) \(reply.text.prefix(300))")
                if !c.type.isEmpty {
                    #expect(reply.json["errorType"] as? String == c.type, "\(described): \(reply.text.prefix(300))")
                }
                #expect(try await s.get("/-/healthy").status == 200, "after \(described)")
            }
            let encoded = try #require(Self.backtracking.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
            let values = try await s.get("/api/v1/label/job/values?match%5B%5D=\(encoded)")
            #expect(values.status == 200 && values.text.contains("[]"), "\(values.text)")
            // History intact and queries still answered.
            let up = try await s.get("/api/v1/query?query=up")
            #expect(up.status == 200 && up.text.contains("\"1\""))
        }
    }

    /// Answers past `--query.max-response-bytes` are refused with 422 while being built, from
    /// queries and from the series scan alike; smaller ones are unaffected.
    @Test func responsesAreHeldToTheirSizeLimit() async throws {
        try await InProcessServer.with(configure: { $0.maxResponseBytes = 4096 }) { s in
            let body = (0..<200).map { "m{i=\"\($0)\",pad=\"\(String(repeating: "p", count: 40))\"} \($0)\n" }.joined()
            let imported = try await s.post("/api/v1/import/prometheus", body: body)
            #expect(imported.status == 200, "\(imported.text)")
            let now = Date().timeIntervalSince1970
            for (path, form) in [("/api/v1/query", [("query", "m")]), ("/api/v1/series", [("match[]", "m")]),
                                 ("/api/v1/query_range", [("query", "m"), ("start", "\(now - 600)"), ("end", "\(now)"), ("step", "60")])] {
                let reply = try await s.post(path, form: form)
                #expect(reply.status == 422, "\(path): \(reply.text.prefix(200))")
                #expect(reply.json["errorType"] as? String == "execution")
                #expect(reply.text.contains("max-response-bytes"))
            }
            let small = try await s.post("/api/v1/query", form: [("query", #"m{i="7"}"#)])
            #expect(small.status == 200 && small.text.contains(#""i":"7""#))
        }
    }
}
