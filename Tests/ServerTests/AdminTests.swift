import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import Server

@Suite(.serialized) struct AdminTests {
    @Test func adminEndpointsNeedTheFlag() async throws {
        try await InProcessServer.with(adminAPI: false) { s in
            let r = try await s.post("/api/v1/admin/tsdb/delete_series", form: [("match[]", "up")])
            #expect(r.status == 503)
            #expect(r.json["errorType"] as? String == "unavailable")
        }
    }

    @Test func deleteCleanAndSnapshot() async throws {
        try await InProcessServer.with(adminAPI: true) { s in
            _ = try await s.post("/api/v1/import/prometheus", body: APITests.importBody)
            let before = try await s.get("/api/v1/query?query=\(q("count(http_requests_total)"))&time=1100")
            #expect(before.text.contains("\"2\""))

            let deleted = try await s.post("/api/v1/admin/tsdb/delete_series", form: [("match[]", "http_requests_total{code=\"500\"}")])
            #expect(deleted.status == 204)
            let after = try await s.get("/api/v1/query?query=\(q("count(http_requests_total)"))&time=1100")
            #expect(after.text.contains("\"1\""))
            let series = try await s.get("/api/v1/query?query=\(q("http_requests_total{code=\"500\"}"))&time=1100")
            #expect(series.text.contains("\"result\":[]"))

            let missing = try await s.post("/api/v1/admin/tsdb/delete_series", form: [])
            #expect(missing.status == 400)

            let clean = try await s.post("/api/v1/admin/tsdb/clean_tombstones", form: [])
            #expect(clean.status == 204)

            let snap = try await s.post("/api/v1/admin/tsdb/snapshot", form: [])
            #expect(snap.status == 200)
            let name = (snap.json["data"] as? [String: Any])?["name"] as? String ?? ""
            #expect(!name.isEmpty)
            #expect(FileManager.default.fileExists(atPath: s.directory + "/snapshots/" + name))
        }
    }
}
