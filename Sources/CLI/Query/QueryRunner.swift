import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import PromQL
import Server
import TSDB

/// Runs a query where it was asked: in this process on a data directory, or on a server.
enum QueryRunner {
    /// Evaluates on a data directory opened read-only; problems met opening it go to stderr.
    static func local(_ request: QueryRequest, directory: String) throws -> QueryValue {
        var logger = Logger(label: "sextant.query")
        logger.logLevel = .error
        let db = try ReadOnlyDB.open(directory: directory, logger: logger)
        for problem in db.problems { FileHandle.standardError.write(Data("warning: \(problem)\n".utf8)) }
        let engine = Engine()
        do {
            if let r = request.range {
                return try engine.rangeQuery(request.expression, start: r.start, end: r.end, step: r.step, on: db)
            }
            return try engine.instantQuery(request.expression, at: request.time, on: db)
        } catch {
            throw QueryFailure(errorType: error.errorType, message: error.description)
        }
    }

    /// Asks a server's /api/v1/query or /api/v1/query_range.
    static func remote(_ request: QueryRequest, server: String) async throws -> QueryValue {
        var items = [URLQueryItem(name: "query", value: request.expression)]
        let path: String
        if let r = request.range {
            path = "/api/v1/query_range"
            items += [URLQueryItem(name: "start", value: formatSeconds(r.start)),
                      URLQueryItem(name: "end", value: formatSeconds(r.end)),
                      URLQueryItem(name: "step", value: formatSeconds(r.step))]
        } else {
            path = "/api/v1/query"
            items.append(URLQueryItem(name: "time", value: formatSeconds(request.time)))
        }
        let base = server.hasSuffix("/") ? String(server.dropLast()) : server
        guard var components = URLComponents(string: base + path), components.host != nil else {
            throw QueryFailure(errorType: "client", message: "invalid --server \"\(server)\"")
        }
        components.queryItems = items
        // '+' is a space in a query string: encode it, as Go's url.Values does.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        guard let url = components.string else {
            throw QueryFailure(errorType: "client", message: "invalid --server \"\(server)\"")
        }
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                                configuration: .init(timeout: .init(connect: .seconds(5), read: .seconds(130))))
        let body: Result<ByteBuffer, any Error>
        do {
            // The client retries a refused connection until the connect timeout, then fails.
            let response = try await client.execute(HTTPClientRequest(url: url), deadline: .now() + .seconds(5) + .seconds(130))
            body = .success(try await response.body.collect(upTo: 1 << 30))
        } catch {
            body = .failure(error)
        }
        try? await client.shutdown()
        switch body {
        case .success(let bytes): return try QueryAnswer.decode(Data(bytes.readableBytesView))
        case .failure(let error): throw QueryFailure(errorType: "client", message: "cannot reach \(base): \(error)")
        }
    }
}

/// A failed query, printed as Prometheus' clients print it.
struct QueryFailure: Error, CustomStringConvertible {
    let errorType: String
    let message: String
    var description: String { "\(errorType): \(message)" }
}
