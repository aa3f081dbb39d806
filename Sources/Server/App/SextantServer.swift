import Foundation
import Hummingbird
import Logging
import NIOCore
import PromQL
import ServiceLifecycle
import TSDB

/// Settings of the server (`sextant serve`'s flags).
public struct ServerOptions: Sendable {
    public var host = "0.0.0.0"
    public var port = 9090
    public var dataDirectory = "./data"
    public var db = DBOptions()
    public var engine = EngineOptions()
    public var maxConcurrency = 20
    public var enableAdminAPI = false
    /// The flags as given, for /api/v1/status/flags.
    public var flags: [String: String] = [:]

    public init() {}
}

/// The Sextant server: a DB, the PromQL engine and the HTTP API.
public struct SextantServer: Sendable {
    public let options: ServerOptions
    public let db: DB
    let logger: Logger
    let metrics = ServerMetrics()

    /// Opens the data directory (replaying the WAL).
    public init(options: ServerOptions, logger: Logger) throws {
        self.options = options
        self.logger = logger
        db = try DB.open(directory: options.dataDirectory, options: options.db, logger: logger)
    }

    /// The router with every endpoint.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        let metrics = self.metrics
        router.middlewares.add(CountingMiddleware(metrics: metrics))
        let api = PrometheusAPI(db: db, engine: Engine(options: options.engine),
                                limiter: QueryLimiter(limit: options.maxConcurrency), build: .current, metrics: metrics)
        api.register(on: router)
        let db = self.db
        router.get("/-/healthy") { _, _ in "Sextant is Healthy.\n" }
        router.get("/-/ready") { _, _ in "Sextant is Ready.\n" }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.render(db: db, build: .current))))
        }
        return router
    }

    /// The HTTP application; `onRunning` gets the bound port (useful with port 0).
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: router(),
                     configuration: .init(address: .hostname(options.host, port: options.port), serverName: "Sextant"),
                     onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
                     logger: logger)
    }

    /// Serves until SIGTERM or SIGINT, then lets requests finish and closes the store.
    public func run() async throws {
        let app = application { port in logger.info("listening on \(options.host):\(port)") }
        let compactor = CompactionService(db: db, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app, compactor],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        db.close()
        logger.info("closed \(options.dataDirectory)")
    }
}

/// Counts requests for /metrics.
struct CountingMiddleware: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: BasicRequestContext,
                next: (Request, BasicRequestContext) async throws -> Response) async throws -> Response {
        metrics.httpRequests.add(1, ordering: .relaxed)
        return try await next(request, context)
    }
}

/// Runs compaction and retention once a minute until shutdown.
struct CompactionService: Service {
    let db: DB
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // The wait ends at once on shutdown.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(60)) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            let db = self.db, logger = self.logger
            await Task.detached {
                do { try db.compact() } catch { logger.error("compaction failed: \(error)") }
            }.value
        }
    }
}
