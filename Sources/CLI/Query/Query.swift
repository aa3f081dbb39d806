import ArgumentParser
import Foundation
import Logging
import PromQL
import Server
import TSDB

/// `sextant query EXPR`: an instant or range query against a running server or, read-only,
/// against a data directory that no server holds.
struct Query: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a PromQL query against a server or a data directory.",
        discussion: """
        Times are Unix seconds or RFC 3339; --step is seconds or a duration (15s, 1m).
        Without --start and --end the query is an instant query at --time (default: now).

        Examples:
          sextant query 'up'
          sextant query 'rate(http_requests_total[5m])' --server http://prom:9090 --format json
          sextant query 'sum by (job) (up)' --start 2026-11-26T10:00:00Z --end 2026-11-26T11:00:00Z --step 1m
          sextant query 'up' --storage.tsdb.path ./data --time 1764150000 --format csv
        """
    )

    @Argument(help: "The PromQL expression.")
    var expression: String

    @Option(help: "The server to ask.")
    var server = "http://localhost:9090"

    @Option(name: .customLong("storage.tsdb.path"), help: "Query this data directory directly (read-only) instead of a server.")
    var dataDirectory: String?

    @Option(help: "Evaluation time of an instant query (default: now).")
    var time: String?

    @Option(help: "Start of a range query.")
    var start: String?

    @Option(help: "End of a range query (default: now).")
    var end: String?

    @Option(help: "Resolution of a range query (default: the range / 250, at least 1s).")
    var step: String?

    @Option(help: "Output: table, json or csv.")
    var format: QueryOutputFormat = .table

    func run() async throws {
        let request = try queryRequest()
        let value: QueryValue
        if let dataDirectory {
            value = try QueryRunner.local(request, directory: dataDirectory)
        } else {
            value = try await QueryRunner.remote(request, server: server)
        }
        print(QueryOutput.render(value, as: format), terminator: "")
    }

    /// The evaluation times from the options, in milliseconds.
    func queryRequest() throws -> QueryRequest {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        func parse(_ text: String?, _ name: String) throws -> Int64? {
            guard let text else { return nil }
            guard let t = parseAPITime(text) else { throw ValidationError("invalid --\(name) \"\(text)\": not Unix seconds or RFC 3339") }
            return t
        }
        guard start != nil || end != nil || step != nil else {
            return QueryRequest(expression: expression, range: nil, time: try parse(time, "time") ?? now)
        }
        guard time == nil else { throw ValidationError("--time is for instant queries; a range query takes --start, --end and --step") }
        guard let s = try parse(start, "start") else { throw ValidationError("a range query needs --start") }
        let e = try parse(end, "end") ?? now
        guard e >= s else { throw ValidationError("--end is before --start") }
        var stepMillis = max(1000, (e - s) / 250)
        if let step {
            guard let d = parseAPIDuration(step), d > 0 else {
                throw ValidationError("invalid --step \"\(step)\": not seconds or a duration like 15s")
            }
            stepMillis = d
        }
        return QueryRequest(expression: expression, range: (s, e, stepMillis), time: e)
    }
}

/// What to evaluate: at one time, or over a range.
struct QueryRequest {
    let expression: String
    let range: (start: Int64, end: Int64, step: Int64)?
    let time: Int64
}

enum QueryOutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv
}
