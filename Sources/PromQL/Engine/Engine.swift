import Foundation
import Storage

/// Limits and defaults of query evaluation.
public struct EngineOptions: Sendable {
    /// How far back an instant selector looks for a sample (5m).
    public var lookbackDelta: Int64 = 5 * 60_000
    /// Longest a query may run.
    public var timeout: Duration = .seconds(120)
    /// Most samples a query may hold at once.
    public var maxSamples = 50_000_000
    /// Step of a subquery without one (Prometheus: the global evaluation interval, 1m).
    public var defaultSubqueryStep: Int64 = 60_000
    /// Longest label value `label_replace` or `label_join` may produce, in bytes: a label
    /// doubled by nested calls would otherwise grow to gigabytes.
    public var maxLabelValueBytes = 64 * 1024
    /// Most bytes of label values `label_replace` and `label_join` may create in one query.
    public var maxCreatedLabelBytes = 256 << 20
    /// A selector matching at least this many series is read and computed on all cores.
    public var parallelSeriesThreshold = 256

    public init() {}
}

/// Why a query failed; `errorType` is the HTTP API's name for it.
public enum QueryError: Error, Sendable, Equatable, CustomStringConvertible {
    case parse(ParseError)
    case badData(String)
    case timeout(String)
    case canceled(String)
    case tooManySamples
    case execution(String)

    public var errorType: String {
        switch self {
        case .parse, .badData: "bad_data"
        case .timeout: "timeout"
        case .canceled: "canceled"
        case .tooManySamples, .execution: "execution"
        }
    }

    public var description: String {
        switch self {
        case .parse(let e): e.description
        case .badData(let m), .execution(let m): m
        case .timeout(let m): "query timed out in \(m)"
        case .canceled(let m): "query was canceled in \(m)"
        case .tooManySamples: "query processing would load too many samples into memory in query execution"
        }
    }
}

/// Evaluates PromQL with Prometheus 2.42's semantics over the storage protocols.
public struct Engine: Sendable {
    public let options: EngineOptions

    public init(options: EngineOptions = EngineOptions()) {
        self.options = options
    }

    /// Parses `query`, with parse errors as query errors.
    public static func parse(_ query: String) throws(QueryError) -> Expr {
        do { return try Parser.parse(query) } catch { throw .parse(error) }
    }

    /// Evaluates `query` at time `t` (milliseconds). `deadline` (default: the timeout from now)
    /// is when evaluation stops with a timeout error; a server passes the request's own, so
    /// time spent waiting for a query slot counts.
    public func instantQuery(_ query: String, at t: Int64, on storage: any Queryable,
                             deadline: ContinuousClock.Instant? = nil) throws(QueryError) -> QueryValue {
        try instantQuery(try Engine.parse(query), at: t, on: storage, deadline: deadline)
    }

    /// Evaluates a parsed expression at time `t` (milliseconds).
    public func instantQuery(_ expr: Expr, at t: Int64, on storage: any Queryable,
                             deadline: ContinuousClock.Instant? = nil) throws(QueryError) -> QueryValue {
        try evaluate(expr, start: t, end: t, step: 1, on: storage, instant: true, deadline: deadline)
    }

    /// Evaluates `query` at every `step` from `start` to `end` (milliseconds); the result is a
    /// matrix.
    public func rangeQuery(_ query: String, start: Int64, end: Int64, step: Int64,
                           on storage: any Queryable, deadline: ContinuousClock.Instant? = nil) throws(QueryError) -> QueryValue {
        let expr = try Engine.parse(query)
        try Engine.checkRange(expr, start: start, end: end, step: step)
        return try rangeQuery(expr, start: start, end: end, step: step, on: storage, deadline: deadline)
    }

    /// Evaluates a parsed expression that `checkRange` accepted at every `step` from `start`
    /// to `end` (milliseconds).
    public func rangeQuery(_ expr: Expr, start: Int64, end: Int64, step: Int64,
                           on storage: any Queryable, deadline: ContinuousClock.Instant? = nil) throws(QueryError) -> QueryValue {
        try evaluate(expr, start: start, end: end, step: step, on: storage, instant: false, deadline: deadline)
    }

    /// Whether a range query of `expr` can be evaluated at all: a scalar or instant vector
    /// expression, a positive step and an end not before the start.
    public static func checkRange(_ expr: Expr, start: Int64, end: Int64, step: Int64) throws(QueryError) {
        guard expr.type == .scalar || expr.type == .vector else {
            throw .badData("invalid expression type \"\(expr.type.name)\" for range query, must be Scalar or instant Vector")
        }
        guard step > 0 else { throw .badData("zero or negative query resolution step widths are not accepted. Try a positive integer") }
        guard end >= start else { throw .badData("end timestamp must not be before start time") }
    }

    func evaluate(_ expr: Expr, start: Int64, end: Int64, step: Int64, on storage: any Queryable,
                  instant: Bool, deadline: ContinuousClock.Instant?) throws(QueryError) -> QueryValue {
        let context = EvalContext(storage: storage, options: options, queryStart: start, queryEnd: end,
                                  deadline: deadline ?? ContinuousClock.now.advanced(by: options.timeout))
        try context.checkDeadline()
        let evaluator = Evaluator(context: context, start: start, end: end, interval: step)
        let value = try evaluator.eval(expr)
        return evaluator.result(value, instant: instant)
    }
}

/// Shared by an evaluator and the evaluators of its subqueries.
final class EvalContext {
    let storage: any Queryable
    let options: EngineOptions
    let queryStart: Int64
    let queryEnd: Int64
    let deadline: ContinuousClock.Instant
    var samples = 0
    var checks = 0
    var createdLabelBytes = 0

    init(storage: any Queryable, options: EngineOptions, queryStart: Int64, queryEnd: Int64, deadline: ContinuousClock.Instant) {
        self.storage = storage
        self.options = options
        self.queryStart = queryStart
        self.queryEnd = queryEnd
        self.deadline = deadline
    }

    /// Counts samples held and checks the limits.
    func hold(_ n: Int) throws(QueryError) {
        samples += n
        if samples > options.maxSamples { throw .tooManySamples }
        checks += 1
        if checks & 255 == 0, ContinuousClock.now > deadline { throw .timeout("expression evaluation") }
    }

    /// Counts the bytes of a label value a function is about to create and checks both label
    /// limits, before the value is built.
    func createLabel(bytes: Int, in function: String) throws(QueryError) {
        guard bytes <= options.maxLabelValueBytes else {
            throw .execution("\(function): resulting label value longer than \(options.maxLabelValueBytes) bytes")
        }
        createdLabelBytes += bytes
        guard createdLabelBytes <= options.maxCreatedLabelBytes else {
            throw .execution("\(function): query created more than \(options.maxCreatedLabelBytes) bytes of label values")
        }
        try hold(0)
    }

    func checkDeadline() throws(QueryError) {
        if ContinuousClock.now > deadline { throw .timeout("expression evaluation") }
    }
}

