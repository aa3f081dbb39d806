import Foundation
import Hummingbird
import Logging
import PromQL
import Remote
import Storage
import Scrape
import TSDB

/// Prometheus' HTTP API v1 over a `DB`: queries, series and label metadata, import, status.
struct PrometheusAPI: Sendable {
    let storage: StorageState
    let engine: Engine
    let limiter: QueryLimiter
    /// Where remote read requests run (`--storage.remote.read-concurrent-limit` at once).
    let remoteReadLimiter: QueryLimiter
    /// Where request parameters are decoded and queries parsed, niced like the query threads
    /// but apart from them, so a parse error is answered while every query slot is busy.
    let requestThreads: WorkerThreads
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
    /// What queries read: the store and the `remote_read` endpoints.
    var queryable: any Queryable {
        get throws(APIError) {
            let db = try self.db
            let remotes = scraping.remoteRead.withLock { $0 }
            return remotes.isEmpty ? db : FanoutQueryable(local: db, remotes: remotes)
        }
    }
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
            return await respondLimited(request) { p throws(APIError) in
                { deadline throws(APIError) in try labelValues(name, p, deadline) }
            }
        }
        router.get("/api/v1/status/buildinfo") { _, _ in json(build.json) }
        registerStatus(on: router)
        registerAdmin(on: router)
        registerRemote(on: router)
        registerRules(on: router)
        router.post("/api/v1/import/prometheus") { request, _ in
            await respond { () throws(APIError) in try await importText(request) }
        }
    }

    func handle(_ path: String, _ request: Request) async -> Response {
        await respondLimited(request) { p throws(APIError) in
            switch path {
            case "/api/v1/query": return try query(p)
            case "/api/v1/query_range": return try queryRange(p)
            case "/api/v1/series": return { deadline throws(APIError) in try series(p, deadline) }
            default: return { deadline throws(APIError) in try labelNames(p, deadline) }
            }
        }
    }

    /// Work for a query thread: the `data` of a success answer, built before `deadline`.
    typealias LimitedWork = @Sendable (ContinuousClock.Instant) throws(APIError) -> [UInt8]

    /// Answers an endpoint that reads the store. `prepare` checks the parameters at once (a
    /// bad request does not wait for a slot) and returns the work; the work runs on a query
    /// thread once the query limiter gives it a slot (off the event loops, never more than
    /// `--query.max-concurrency` at once), and so do the envelope and the gzip of its answer,
    /// which for a large answer are work too.
    func respondLimited(_ request: Request, _ prepare: @escaping @Sendable (Parameters) throws(APIError) -> LimitedWork) async -> Response {
        do throws(APIError) {
            let deadline = ContinuousClock.now.advanced(by: options.engine.timeout)
            let encoded = try await encodedParameters(request)
            // Decoding a form and parsing PromQL cost CPU in proportion to the request (up to
            // megabytes): done on a request thread, where they cannot hold up the executor.
            let work = try await requestThreads.run {
                Result { () throws(APIError) in try prepare(Parameters(encoded: encoded)) }
            }.get()
            let gzip = GzipMiddleware.accepts(request)
            return try await limited(until: deadline) { deadline throws(APIError) in
                EncodedAnswer(data: try work(deadline), gzip: gzip)
            }.response
        } catch {
            return json(error.json, status: error.status)
        }
    }

    /// Runs `work` on a query thread once the query limiter gives it a slot, with the deadline
    /// of the request (`--query.timeout` from now; waiting for the slot counts).
    func limited<T: Sendable>(until deadline: ContinuousClock.Instant? = nil,
                              _ work: @escaping @Sendable (ContinuousClock.Instant) throws(APIError) -> T) async throws(APIError) -> T {
        let deadline = deadline ?? ContinuousClock.now.advanced(by: options.engine.timeout)
        let result = await limiter.run(until: deadline) { Result { () throws(APIError) in try work(deadline) } }
        guard let result else { throw Self.queuedTooLong }
        return try result.get()
    }

    /// The answer to a request whose deadline passed while it waited for a query slot.
    static let queuedTooLong = APIError(kind: .timeout, message: "query timed out in queue: every query slot was busy until the deadline (--query.timeout, --query.max-concurrency)")

    /// Wraps a handler: success bodies go out as `{"status":"success","data":…}`, errors in the
    /// error envelope with Prometheus' status codes.
    func respond(_ body: () async throws(APIError) -> [UInt8]) async -> Response {
        do {
            return EncodedAnswer(data: try await body(), gzip: false).response
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
        Parameters(encoded: try await encodedParameters(request))
    }

    /// The query string and, for form posts, the body: still URL-encoded, so that decoding a
    /// large form can be left to a worker thread.
    func encodedParameters(_ request: Request) async throws(APIError) -> [String] {
        var encoded: [String] = []
        if let q = request.uri.query { encoded.append(q) }
        if request.method == .post, request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true {
            var r = request
            guard let body = try? await r.collectBody(upTo: 8 << 20) else { throw .badData("request body too large or unreadable") }
            encoded.append(String(buffer: body))
        }
        return encoded
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

    /// Checks an instant query's parameters and parses it; the work evaluates and encodes it.
    func query(_ p: Parameters) throws(APIError) -> LimitedWork {
        guard let q = p.first("query") else { throw .badData("invalid parameter \"query\": parse error: no expression found in input") }
        let t = try p.time("time", default: Int64(Date().timeIntervalSince1970 * 1000))
        let expr: Expr
        do { expr = try Engine.parse(q) } catch { throw APIError(error) }
        let engine = self.engine, store = try self.queryable
        return evaluate { deadline throws(QueryError) in try engine.instantQuery(expr, at: t, on: store, deadline: deadline) }
    }

    /// Checks a range query's parameters and parses it; the work evaluates and encodes it.
    func queryRange(_ p: Parameters) throws(APIError) -> LimitedWork {
        guard let q = p.first("query") else { throw .badData("invalid parameter \"query\": parse error: no expression found in input") }
        let start = try p.time("start"), end = try p.time("end")
        guard end >= start else { throw .badData("invalid parameter \"end\": end timestamp must not be before start time") }
        let step = try p.duration("step")
        guard step > 0 else { throw .badData("invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer") }
        guard (end - start) / step < Int64(PrometheusAPI.maxPoints) else {
            throw .badData("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
        }
        let expr: Expr
        do {
            expr = try Engine.parse(q)
            try Engine.checkRange(expr, start: start, end: end, step: step)
        } catch { throw APIError(error) }
        let engine = self.engine, store = try self.queryable
        return evaluate { deadline throws(QueryError) in
            try engine.rangeQuery(expr, start: start, end: end, step: step, on: store, deadline: deadline)
        }
    }

    /// Work that evaluates a query and encodes its answer within `--query.max-response-bytes`,
    /// and records its duration.
    func evaluate(_ query: @escaping @Sendable (ContinuousClock.Instant) throws(QueryError) -> QueryValue) -> LimitedWork {
        let maxBytes = options.maxResponseBytes, metrics = self.metrics
        return { deadline throws(APIError) in
            let started = ContinuousClock.now
            defer { metrics.observeQuery(ContinuousClock.now - started) }
            let value: QueryValue
            do throws(QueryError) { value = try query(deadline) } catch { throw APIError(error) }
            do throws(EncodingStopped) { return try value.apiJSON(maxBytes: maxBytes, deadline: deadline) } catch {
                switch error {
                case .tooLarge: throw APIError(kind: .execution, message: "response larger than \(maxBytes) bytes (--query.max-response-bytes)")
                case .deadline: throw APIError(kind: .timeout, message: "query timed out in encoding the result (--query.timeout)")
                }
            }
        }
    }

    // MARK: - Metadata

    func timeRange(_ p: Parameters) throws(APIError) -> (Int64, Int64) {
        let start = try p.time("start", default: Parameters.minTime)
        let end = try p.time("end", default: Parameters.maxTime)
        return (start, end)
    }

    func series(_ p: Parameters, _ deadline: ContinuousClock.Instant) throws(APIError) -> [UInt8] {
        let texts = p.all("match[]")
        guard !texts.isEmpty else { throw .badData("no match[] parameter provided") }
        let sets = try parseMatchers(texts)
        let (start, end) = try timeRange(p)
        let q = try db.querier(mint: start, maxt: end)
        var budget = ScanBudget(deadline: deadline, maxBytes: options.maxResponseBytes)
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

    func labelNames(_ p: Parameters, _ deadline: ContinuousClock.Instant) throws(APIError) -> [UInt8] {
        let (start, end) = try timeRange(p)
        let q = try db.querier(mint: start, maxt: end)
        let sets = try parseMatchers(p.all("match[]"))
        let budget = ScanBudget(deadline: deadline, maxBytes: options.maxResponseBytes)
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

    func labelValues(_ name: String, _ p: Parameters, _ deadline: ContinuousClock.Instant) throws(APIError) -> [UInt8] {
        guard isValidLabelName(name) else { throw .badData("invalid label name: \"\(name)\"") }
        let (start, end) = try timeRange(p)
        let q = try db.querier(mint: start, maxt: end)
        let sets = try parseMatchers(p.all("match[]"))
        let budget = ScanBudget(deadline: deadline, maxBytes: options.maxResponseBytes)
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

/// Why encoding an answer stopped: it would have been larger than `maxBytes`, or the
/// query's deadline passed.
public enum EncodingStopped: Error, Sendable {
    case tooLarge(maxBytes: Int)
    case deadline
}

extension QueryValue {
    /// The `data` object of a query answer: `{"resultType":…,"result":…}`.
    public var apiJSON: [UInt8] {
        (try? apiJSON(maxBytes: .max, deadline: nil)) ?? []
    }

    /// The `data` object of a query answer, given up (before it grows further) once it passes
    /// `maxBytes` or `deadline`; both checked after each series, whose size the label and point
    /// limits bound.
    public func apiJSON(maxBytes: Int, deadline: ContinuousClock.Instant?) throws(EncodingStopped) -> [UInt8] {
        var w = JSONWriter(capacity: 1024)
        func check() throws(EncodingStopped) {
            guard w.bytes.count <= maxBytes else { throw .tooLarge(maxBytes: maxBytes) }
            if let deadline, ContinuousClock.now > deadline { throw .deadline }
        }
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
                try check()
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
                try check()
            }
            w.raw("]")
        }
        w.raw("}")
        guard w.bytes.count <= maxBytes else { throw .tooLarge(maxBytes: maxBytes) }
        return w.bytes
    }
}
