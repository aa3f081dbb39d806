import Foundation
import Hummingbird
import Logging
import PromQL
import Scrape
import TSDB

/// Prometheus' HTTP API v1 over a `DB`: queries, series and label metadata, import, status.
struct PrometheusAPI: Sendable {
    let storage: StorageState
    let engine: Engine
    let limiter: QueryLimiter
    let build: BuildInfo
    let metrics: ServerMetrics
    let metadata: MetadataStore
    let options: ServerOptions
    let startTime: Date
    let scraping: ScrapeState
    /// Re-reads the configuration (POST /-/reload).
    let reload: @Sendable () throws -> Void
    /// Begins a graceful shutdown (POST /-/quit).
    let quit: @Sendable () -> Void

    var db: DB { get throws(APIError) { try storage.get() } }
    /// Most points a range query may return per series.
    static let maxPoints = 11_000

    func register(on router: Router<BasicRequestContext>) {
        for path in ["/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/api/v1/labels"] {
            let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, context in
                await handle(path, request)
            }
            router.get(RouterPath(path), use: handler)
            router.post(RouterPath(path), use: handler)
        }
        router.get("/api/v1/label/:name/values") { request, context in
            let name = context.parameters.get("name") ?? ""
            return await respond { () throws(APIError) in
                let p = try await parameters(request)
                return try await limited { () throws(APIError) in try labelValues(name, p) }
            }
        }
        router.get("/api/v1/status/buildinfo") { _, _ in json(build.json) }
        registerStatus(on: router)
        registerAdmin(on: router)
        router.post("/api/v1/import/prometheus") { request, _ in
            await respond { () throws(APIError) in try await importText(request) }
        }
    }

    func handle(_ path: String, _ request: Request) async -> Response {
        await respond { () throws(APIError) in
            let p = try await parameters(request)
            switch path {
            case "/api/v1/query": return try await query(p)
            case "/api/v1/query_range": return try await queryRange(p)
            case "/api/v1/series": return try await limited { () throws(APIError) in try series(p) }
            default: return try await limited { () throws(APIError) in try labelNames(p) }
            }
        }
    }

    /// Runs store work on a query thread once the query limiter gives it a slot, as queries
    /// run: off the event loops, and never more than `--query.max-concurrency` at once.
    func limited<T: Sendable>(_ work: @escaping @Sendable () throws(APIError) -> T) async throws(APIError) -> T {
        try await limiter.run { Result { () throws(APIError) in try work() } }.get()
    }

    /// Wraps a handler: success bodies go out as `{"status":"success","data":…}`, errors in the
    /// error envelope with Prometheus' status codes.
    func respond(_ body: () async throws(APIError) -> [UInt8]) async -> Response {
        do {
            let data = try await body()
            var w = JSONWriter(capacity: data.count + 32)
            w.raw("{\"status\":\"success\",\"data\":")
            w.bytes.append(contentsOf: data)
            w.raw("}")
            return json(w.bytes)
        } catch {
            return json(error.json, status: error.status)
        }
    }

    func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Query string and, for form posts, the body's parameters.
    func parameters(_ request: Request) async throws(APIError) -> Parameters {
        var p = Parameters()
        if let q = request.uri.query { p.add(urlEncoded: Substring(q)) }
        if request.method == .post, request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true {
            var r = request
            guard let body = try? await r.collectBody(upTo: 8 << 20) else { throw .badData("request body too large or unreadable") }
            p.add(urlEncoded: Substring(String(buffer: body)))
        }
        return p
    }

    func parseMatchers(_ texts: [String]) throws(APIError) -> [[LabelMatcher]] {
        var out: [[LabelMatcher]] = []
        for t in texts {
            do { out.append(try Parser.parseSelector(t).matchers) } catch {
                throw .badData("invalid parameter \"match[]\": \(error)")
            }
        }
        return out
    }

    // MARK: - Queries

    func query(_ p: Parameters) async throws(APIError) -> [UInt8] {
        guard let q = p.first("query") else { throw .badData("invalid parameter \"query\": parse error: no expression found in input") }
        let t = try p.time("time", default: Int64(Date().timeIntervalSince1970 * 1000))
        let engine = self.engine, db = try self.db
        return try await evaluate { () throws(QueryError) in try engine.instantQuery(q, at: t, on: db) }
    }

    func queryRange(_ p: Parameters) async throws(APIError) -> [UInt8] {
        guard let q = p.first("query") else { throw .badData("invalid parameter \"query\": parse error: no expression found in input") }
        let start = try p.time("start"), end = try p.time("end")
        guard end >= start else { throw .badData("invalid parameter \"end\": end timestamp must not be before start time") }
        let step = try p.duration("step")
        guard step > 0 else { throw .badData("invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer") }
        guard (end - start) / step < Int64(PrometheusAPI.maxPoints) else {
            throw .badData("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
        }
        let engine = self.engine, db = try self.db
        return try await evaluate { () throws(QueryError) in try engine.rangeQuery(q, start: start, end: end, step: step, on: db) }
    }

    /// Evaluates a query and encodes its answer on a query thread (a large answer's encoding is
    /// work too, and must not hold up the event loops), within `--query.max-response-bytes`.
    func evaluate(_ work: @escaping @Sendable () throws(QueryError) -> QueryValue) async throws(APIError) -> [UInt8] {
        let started = ContinuousClock.now
        let maxBytes = options.maxResponseBytes
        let result = await limiter.run {
            Result { () throws(APIError) -> [UInt8] in
                let value: QueryValue
                do throws(QueryError) { value = try work() } catch { throw APIError(error) }
                do throws(ResponseTooLarge) { return try value.apiJSON(maxBytes: maxBytes) } catch {
                    throw APIError(kind: .execution, message: "response larger than \(maxBytes) bytes (--query.max-response-bytes)")
                }
            }
        }
        metrics.observeQuery(ContinuousClock.now - started)
        return try result.get()
    }

    // MARK: - Metadata

    func timeRange(_ p: Parameters) throws(APIError) -> (Int64, Int64) {
        let start = try p.time("start", default: Parameters.minTime)
        let end = try p.time("end", default: Parameters.maxTime)
        return (start, end)
    }

    func series(_ p: Parameters) throws(APIError) -> [UInt8] {
        let texts = p.all("match[]")
        guard !texts.isEmpty else { throw .badData("no match[] parameter provided") }
        let sets = try parseMatchers(texts)
        let (start, end) = try timeRange(p)
        let q = try db.querier(mint: start, maxt: end)
        var budget = ScanBudget(options)
        var seen = Set<Labels>()
        var all: [Labels] = []
        for m in sets {
            var set = q.select(m, hints: nil)
            while set.next() {
                try budget.visit()
                let labels = set.at().labels
                if seen.insert(labels).inserted {
                    try budget.add(labels)
                    all.append(labels)
                }
            }
            if let e = set.error { throw APIError(kind: .execution, message: "\(e)") }
        }
        all.sort { Labels.compare($0, $1) < 0 }
        var w = JSONWriter(capacity: budget.bytes + all.count + 2)
        w.raw("[")
        for (i, l) in all.enumerated() {
            if i > 0 { w.raw(",") }
            w.labels(l)
        }
        w.raw("]")
        return w.bytes
    }

    func labelNames(_ p: Parameters) throws(APIError) -> [UInt8] {
        let (start, end) = try timeRange(p)
        let q = try db.querier(mint: start, maxt: end)
        let sets = try parseMatchers(p.all("match[]"))
        var budget = ScanBudget(options)
        var names = Set<String>()
        if sets.isEmpty { names.formUnion(q.labelNames([])) }
        for m in sets {
            names.formUnion(q.labelNames(m))
            try budget.checkDeadline()
        }
        var w = JSONWriter()
        w.strings(names.sorted())
        return w.bytes
    }

    func labelValues(_ name: String, _ p: Parameters) throws(APIError) -> [UInt8] {
        guard isValidLabelName(name) else { throw .badData("invalid label name: \"\(name)\"") }
        let (start, end) = try timeRange(p)
        let q = try db.querier(mint: start, maxt: end)
        let sets = try parseMatchers(p.all("match[]"))
        var budget = ScanBudget(options)
        var values = Set<String>()
        if sets.isEmpty { values.formUnion(q.labelValues(name, [])) }
        for m in sets {
            values.formUnion(q.labelValues(name, m))
            try budget.checkDeadline()
        }
        var w = JSONWriter()
        w.strings(values.sorted())
        return w.bytes
    }
}

/// An answer that would have been encoded to more than `maxBytes`.
public struct ResponseTooLarge: Error, Sendable {
    public let maxBytes: Int
}

extension QueryValue {
    /// The `data` object of a query answer: `{"resultType":…,"result":…}`.
    public var apiJSON: [UInt8] {
        (try? apiJSON(maxBytes: .max)) ?? []
    }

    /// The `data` object of a query answer, given up (before it grows further) once it passes
    /// `maxBytes`; checked after each series, whose size the label and point limits bound.
    public func apiJSON(maxBytes: Int) throws(ResponseTooLarge) -> [UInt8] {
        var w = JSONWriter(capacity: 1024)
        w.raw("{\"resultType\":")
        w.string(resultType)
        w.raw(",\"result\":")
        switch self {
        case .scalar(let t, let x): w.point(t, x)
        case .string(let t, let s):
            w.raw("[")
            w.time(t)
            w.raw(",")
            w.string(s)
            w.raw("]")
        case .vector(let samples):
            w.raw("[")
            for (i, s) in samples.enumerated() {
                if i > 0 { w.raw(",") }
                w.raw("{\"metric\":")
                w.labels(s.labels)
                w.raw(",\"value\":")
                w.point(s.t, s.v)
                w.raw("}")
                guard w.bytes.count <= maxBytes else { throw ResponseTooLarge(maxBytes: maxBytes) }
            }
            w.raw("]")
        case .matrix(let series):
            w.raw("[")
            for (i, s) in series.enumerated() {
                if i > 0 { w.raw(",") }
                w.raw("{\"metric\":")
                w.labels(s.labels)
                w.raw(",\"values\":[")
                for k in s.timestamps.indices {
                    if k > 0 { w.raw(",") }
                    w.point(s.timestamps[k], s.values[k])
                }
                w.raw("]}")
                guard w.bytes.count <= maxBytes else { throw ResponseTooLarge(maxBytes: maxBytes) }
            }
            w.raw("]")
        }
        w.raw("}")
        guard w.bytes.count <= maxBytes else { throw ResponseTooLarge(maxBytes: maxBytes) }
        return w.bytes
    }
}
