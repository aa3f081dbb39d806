import Foundation
import Hummingbird
import TSDB

/// The admin endpoints, only with `--web.enable-admin-api` (otherwise 503, as Prometheus).
extension PrometheusAPI {
    func registerAdmin(on router: Router<BasicRequestContext>) {
        for method in [HTTPRequest.Method.post, .put] {
            router.on("/api/v1/admin/tsdb/delete_series", method: method) { request, _ in
                await admin { () throws(APIError) in try await deleteSeries(try await parameters(request)) }
            }
            router.on("/api/v1/admin/tsdb/clean_tombstones", method: method) { _, _ in
                await admin { () throws(APIError) in
                    do { try db.cleanTombstones() } catch { throw APIError(kind: .internalError, message: "\(error)") }
                    return nil
                }
            }
            router.on("/api/v1/admin/tsdb/snapshot", method: method) { request, _ in
                await admin { () throws(APIError) in try await snapshot(try await parameters(request)) }
            }
        }
    }

    /// 204 for a nil body, `{"status":"success","data":…}` otherwise.
    func admin(_ body: () async throws(APIError) -> [UInt8]?) async -> Response {
        guard options.enableAdminAPI else {
            return json(APIError(kind: .unavailable, message: "admin APIs disabled").json, status: .serviceUnavailable)
        }
        var result: [UInt8]?
        let response = await respond { () throws(APIError) in
            result = try await body()
            return result ?? []
        }
        return result == nil && response.status == .ok ? Response(status: .noContent) : response
    }

    func deleteSeries(_ p: Parameters) async throws(APIError) -> [UInt8]? {
        let texts = p.all("match[]")
        guard !texts.isEmpty else { throw .badData("no match[] parameter provided") }
        let sets = try parseMatchers(texts)
        let (start, end) = try timeRange(p)
        let db = try self.db
        for m in sets {
            do { try db.delete(m, mint: start, maxt: end) } catch { throw APIError(kind: .internalError, message: "\(error)") }
        }
        return nil
    }

    func snapshot(_ p: Parameters) async throws(APIError) -> [UInt8]? {
        let skipHead = ["true", "1"].contains(p.first("skip_head") ?? "false")
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let name = formatter.string(from: Date()) + "-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let db = try self.db
        do {
            try db.snapshot(into: db.directory + "/snapshots/" + name, includeHead: !skipHead)
        } catch {
            throw APIError(kind: .internalError, message: "create snapshot: \(error)")
        }
        var w = JSONWriter()
        w.raw("{\"name\":")
        w.string(name)
        w.raw("}")
        return w.bytes
    }
}
