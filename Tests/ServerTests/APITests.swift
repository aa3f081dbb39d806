import Foundation
import Testing
@testable import Server

/// End to end: the server on a loopback port, data imported over HTTP, every answer checked
/// against Prometheus' JSON shapes and codes.
@Suite(.serialized) struct APITests {
    /// Samples at 1000 s, 1015 s, … 1285 s.
    static let importBody: String = {
        var lines: [String] = ["# a comment line", ""]
        for i in 0..<20 {
            let t = 1_000_000 + i * 15_000
            lines.append("http_requests_total{job=\"api\",code=\"200\"} \(i * 10) \(t)")
            lines.append("http_requests_total{job=\"api\",code=\"500\"} \(i) \(t)")
            lines.append("temperature{room=\"kitchen\"} \(20 + Double(i) / 4) \(t)")
        }
        lines.append("this is not a sample")
        lines.append("broken{label=\"x\" 1")
        return lines.joined(separator: "\n")
    }()

    @Test func importQueryAndMetadata() async throws {
        try await InProcessServer.with { s in
            let imported = try await s.post("/api/v1/import/prometheus", body: Self.importBody)
            #expect(imported.status == 200)
            let data = imported.json["data"] as? [String: Any]
            #expect(data?["accepted"] as? Int == 60)
            #expect(data?["rejected"] as? Int == 2)
            #expect((data?["errors"] as? [String])?.count == 2)

            // Instant query: vector shape, value as a string, time in seconds.
            let instant = try await s.get("/api/v1/query?query=\(q("temperature"))&time=1100")
            #expect(instant.status == 200)
            #expect(instant.text == #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"temperature","room":"kitchen"},"value":[1100,"21.5"]}]}}"#)

            // POST form, scalar result, fractional time.
            let scalar = try await s.post("/api/v1/query", form: [("query", "1 / 3"), ("time", "1000.5")])
            #expect(scalar.text == #"{"status":"success","data":{"resultType":"scalar","result":[1000.5,"0.3333333333333333"]}}"#)

            let string = try await s.get("/api/v1/query?query=\(q("\"hi\""))&time=5")
            #expect(string.text == #"{"status":"success","data":{"resultType":"string","result":[5,"hi"]}}"#)

            // Range query: matrix, sorted by labels, RFC 3339 times, duration step.
            let range = try await s.get("/api/v1/query_range?query=\(q("sum by (code) (rate(http_requests_total[1m]))"))&start=1970-01-01T00:17:40Z&end=1970-01-01T00:18:40Z&step=30s")
            #expect(range.status == 200)
            let result = ((range.json["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
            #expect(result.map { ($0["metric"] as? [String: String])?["code"] } == ["200", "500"])
            let values = result.first?["values"] as? [[Any]]
            #expect(values?.count == 3)
            #expect(values?.first?.first as? Double == 1060)
            #expect(values?.first?.last as? String == "0.6666666666666666")

            // Special values render as Prometheus renders them.
            let special = try await s.get("/api/v1/query?query=\(q("vector(1/0) or label_replace(vector(-1/0), \"x\", \"y\", \"\", \"\") or label_replace(vector(0/0), \"x\", \"z\", \"\", \"\")"))&time=1000")
            #expect(special.text.contains(#""value":[1000,"+Inf"]"#))
            #expect(special.text.contains(#""value":[1000,"-Inf"]"#))
            #expect(special.text.contains(#""value":[1000,"NaN"]"#))

            let series = try await s.get("/api/v1/series?match%5B%5D=\(q("http_requests_total"))&match%5B%5D=\(q("{room=~\"k.*\"}"))")
            #expect(series.text == #"{"status":"success","data":[{"__name__":"http_requests_total","code":"200","job":"api"},{"__name__":"http_requests_total","code":"500","job":"api"},{"__name__":"temperature","room":"kitchen"}]}"#)

            let labels = try await s.get("/api/v1/labels")
            #expect(labels.text == #"{"status":"success","data":["__name__","code","job","room"]}"#)
            let matchedLabels = try await s.get("/api/v1/labels?match%5B%5D=temperature")
            #expect(matchedLabels.text == #"{"status":"success","data":["__name__","room"]}"#)

            let values2 = try await s.get("/api/v1/label/code/values")
            #expect(values2.text == #"{"status":"success","data":["200","500"]}"#)
            let names = try await s.get("/api/v1/label/__name__/values")
            #expect(names.text == #"{"status":"success","data":["http_requests_total","temperature"]}"#)

            let build = try await s.get("/api/v1/status/buildinfo")
            #expect(((build.json["data"] as? [String: Any])?["version"] as? String) == "0.1.0")

            let healthy = try await s.get("/-/healthy")
            #expect(healthy.status == 200 && healthy.text.contains("Healthy"))
            let metrics = try await s.get("/metrics")
            #expect(metrics.text.contains("sextant_tsdb_head_series 3"))
            #expect(metrics.text.contains("sextant_tsdb_wal_corruptions_total 0"))
            #expect(metrics.text.contains("sextant_engine_query_duration_seconds_bucket{le=\"+Inf\"}"))
            #expect(metrics.text.contains("sextant_http_request_duration_seconds_count"))
            #expect(metrics.text.contains("process_resident_memory_bytes") && metrics.text.contains("process_cpu_seconds_total"))
        }
    }

    /// A body that is one endless line is refused with bad_data once it passes the line limit;
    /// the lines before it stay committed.
    @Test func importRefusesEndlessLines() async throws {
        try await InProcessServer.with { s in
            let body = "ok_total 1 1000\n" + String(repeating: "x", count: 17 << 20)
            let r = try await s.post("/api/v1/import/prometheus", body: body)
            #expect(r.status == 400)
            #expect((r.json["errorType"] as? String) == "bad_data")
            #expect((r.json["error"] as? String)?.contains("a line longer than 16 MiB") == true)
        }
    }

    /// A day of samples from last year, series after series (each in time order), into a
    /// fresh store: all stored and queryable, as VictoriaMetrics' import takes them.
    @Test func historicalImportInAnySeriesOrder() async throws {
        try await InProcessServer.with { s in
            let dayStart = (Int64(Date().timeIntervalSince1970) - 365 * 86_400) / 86_400 * 86_400 * 1000
            var lines: [String] = []
            for host in ["c", "a", "b"] {
                for minute in 0..<1440 {
                    lines.append("history_bytes{host=\"\(host)\"} \(minute % 97) \(dayStart + Int64(minute) * 60_000)")
                }
            }
            let r = try await s.post("/api/v1/import/prometheus", body: lines.joined(separator: "\n"))
            #expect(((r.json["data"] as? [String: Any])?["accepted"] as? Int) == 4320)
            let end = dayStart / 1000 + 86_340
            let counted = try await s.get("/api/v1/query?query=\(q("count_over_time(history_bytes[1d])"))&time=\(end)")
            let result = ((counted.json["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
            #expect(result.count == 3)
            #expect(result.allSatisfy { (($0["value"] as? [Any])?.last as? String) == "1440" })
            let range = try await s.get("/api/v1/query_range?query=\(q("sum(history_bytes)"))&start=\(dayStart / 1000)&end=\(end)&step=3600")
            let values = (((range.json["data"] as? [String: Any])?["result"] as? [[String: Any]])?.first?["values"] as? [[Any]]) ?? []
            #expect(values.count == 24)
        }
    }

    struct Bad: Sendable, CustomStringConvertible {
        let path: String
        let status: Int
        let errorType: String
        let message: String
        var description: String { path }
    }

    @Test(arguments: [
        Bad(path: "/api/v1/query", status: 400, errorType: "bad_data", message: "invalid parameter \"query\""),
        Bad(path: "/api/v1/query?query=\(q("sum("))", status: 400, errorType: "bad_data", message: "parse error"),
        Bad(path: "/api/v1/query?query=up&time=yesterday", status: 400, errorType: "bad_data", message: "invalid parameter \"time\""),
        Bad(path: "/api/v1/query_range?query=up&start=10&end=100", status: 400, errorType: "bad_data", message: "invalid parameter \"step\""),
        Bad(path: "/api/v1/query_range?query=up&start=10&end=100&step=0", status: 400, errorType: "bad_data", message: "zero or negative query resolution step"),
        Bad(path: "/api/v1/query_range?query=up&start=100&end=10&step=1", status: 400, errorType: "bad_data", message: "end timestamp must not be before start time"),
        Bad(path: "/api/v1/query_range?query=up&start=0&end=100000&step=1", status: 400, errorType: "bad_data", message: "exceeded maximum resolution of 11,000 points"),
        Bad(path: "/api/v1/query_range?query=up&end=10&step=1", status: 400, errorType: "bad_data", message: "invalid parameter \"start\""),
        Bad(path: "/api/v1/series", status: 400, errorType: "bad_data", message: "no match[] parameter provided"),
        Bad(path: "/api/v1/series?match%5B%5D=\(q("{a=~\".*\"}"))", status: 400, errorType: "bad_data", message: "invalid parameter \"match[]\""),
        Bad(path: "/api/v1/query?query=\(q("temperature + on() group_left http_requests_total"))&time=1100", status: 422, errorType: "execution", message: "found duplicate series for the match group {} on the right hand-side"),
        Bad(path: "/api/v1/query?query=\(q("http_requests_total + on(job) http_requests_total"))&time=1100", status: 422, errorType: "execution", message: "many-to-many matching not allowed"),
        Bad(path: "/api/v1/label/1bad/values", status: 400, errorType: "bad_data", message: "invalid label name"),
    ])
    func badRequestsGetPrometheusErrors(_ bad: Bad) async throws {
        try await InProcessServer.with { s in
            _ = try await s.post("/api/v1/import/prometheus", body: Self.importBody)
            let r = try await s.get(bad.path)
            #expect(r.status == bad.status, "\(r.text)")
            #expect(r.json["status"] as? String == "error")
            #expect(r.json["errorType"] as? String == bad.errorType)
            #expect((r.json["error"] as? String ?? "").contains(bad.message), "\(r.text)")
        }
    }
}
