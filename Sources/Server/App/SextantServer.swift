import Alerting
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import PromQL
import Remote
import Rules
import Scrape
import ServiceLifecycle
import Synchronization
import UnixSignals
import TSDB

/// Settings of the server (`sextant serve`'s flags).
public struct ServerOptions: Sendable {
    public var host = "0.0.0.0"
    public var port = 9090
    public var dataDirectory = "./data"
    public var db = DBOptions()
    public var engine = EngineOptions()
    public var maxConcurrency = 20
    /// The nice value of query and request threads (10: below the event loops). Tests whose
    /// clients run in the server's own process set 0, or their clients would starve it.
    public var workerNiceness = WorkerThreads.niceness
    /// Largest query answer sent, in bytes of JSON (`--query.max-response-bytes`); a larger
    /// one is refused with 422 before it is built further.
    public var maxResponseBytes = 512 << 20
    public var enableAdminAPI = false
    /// Serve POST /-/reload and /-/quit (`--web.enable-lifecycle`); 403 otherwise.
    public var enableLifecycle = false
    /// Serve POST /api/v1/write (`--web.enable-remote-write-receiver`); 404 otherwise.
    public var enableRemoteWriteReceiver = false
    /// Most samples one query of a remote read answered with samples may return (0: no limit).
    public var remoteReadSampleLimit = 50_000_000
    /// Most remote read requests answered at once (`--storage.remote.read-concurrent-limit`).
    public var remoteReadConcurrentLimit = 10
    /// Frame size of streamed remote read answers (`--storage.remote.read-max-bytes-in-frame`).
    public var remoteReadMaxBytesInFrame = 1 << 20
    /// How long remote write queues may flush on shutdown (`--storage.remote.flush-deadline`).
    public var remoteFlushDeadline: Duration = .seconds(60)
    /// The scrape configuration file, if given.
    public var configFile: String?
    /// Scrape this server's own /metrics (what `sextant serve` does without a configuration).
    public var selfScrape = true
    public var selfScrapeInterval: Int64 = 15_000
    /// TLS, basic auth and headers for the web endpoints (`--web.config.file`).
    public var webConfig: WebConfig?
    /// How often compaction and retention run (Prometheus: every minute).
    public var compactionInterval: Duration = .seconds(60)
    /// The flags as given, for /api/v1/status/flags.
    public var flags: [String: String] = [:]
    /// The URL users reach the server under (`--web.external-url`); nil: `http://HOST:PORT`
    /// with this machine's name, as Prometheus defaults it.
    public var externalURL: String?
    /// `for` state restore and notification timing of alerting rules (`--rules.alert.*`).
    public var rules = RuleOptions()
    /// Most alerts waiting for Alertmanager (`--alertmanager.notification-queue-capacity`).
    public var notificationQueueCapacity = 10_000

    public init() {}

    /// The external URL without a trailing slash (what templates' `$externalURL` shows).
    public var resolvedExternalURL: String {
        var url = externalURL ?? "http://\(ProcessInfo.processInfo.hostName):\(port)"
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }
}

/// The Sextant server: a DB, the PromQL engine and the HTTP API.
public struct SextantServer: Sendable {
    public let options: ServerOptions
    public let storage = StorageState()
    public let scraping = ScrapeState()
    public let metadata = MetadataStore()
    /// Ends `run()` gracefully when triggered (POST /-/quit).
    let shutdown = ShutdownTrigger()
    let logger: Logger
    let metrics = ServerMetrics()
    let startTime = Date()
    /// Niced threads for request work that is not a query: parsing, bcrypt.
    let requestThreads: WorkerThreads
    /// What the server's own scrape presents when basic auth guards /metrics: made at start,
    /// known only to this process.
    let selfScrapeToken = (0..<4).map { _ in String(UInt64.random(in: .min ... .max), radix: 16) }.joined()

    public init(options: ServerOptions, logger: Logger) {
        self.options = options
        self.logger = logger
        requestThreads = WorkerThreads(count: ProcessInfo.processInfo.activeProcessorCount, name: "sextant-request",
                                       niceness: options.workerNiceness)
    }

    /// Opens the data directory (replaying the WAL); until it returns the API answers 503.
    public func openStorage() throws {
        storage.set(try DB.open(directory: options.dataDirectory, options: options.db, logger: logger))
    }

    /// The open store, if any.
    public var db: DB? { storage.current }

    /// Replaces the remote read endpoints. The old ones' clients close five minutes later,
    /// past the longest query that may still hold them.
    func applyRemoteRead(_ config: PrometheusConfig) {
        let storage = self.storage
        var stores: [RemoteReadStore] = []
        for c in config.remoteRead {
            do {
                stores.append(try RemoteReadStore(config: c, externalLabels: config.externalLabels, logger: logger,
                                                  userAgent: "Sextant/\(BuildInfo.current.version)") {
                    // Prometheus reads remote data up to 4 h (two block ranges) past its oldest block.
                    let oldest = storage.current?.blocks.first?.meta.minTime ?? Int64(Date().timeIntervalSince1970 * 1000)
                    return oldest.addingReportingOverflow(4 * 3_600_000).partialValue
                })
            } catch {
                logger.error("remote_read \(c.url): not used: \(error)")
            }
        }
        let old = scraping.remoteRead.withLock { current in
            defer { current = stores }
            return current
        }
        if !old.isEmpty { Task { try? await Task.sleep(for: .seconds(300)); for s in old { await s.shutdown() } } }
    }

    /// The remote write service over the open store (its queues start with the configuration).
    func makeRemoteWrite() -> RemoteWriteService? {
        guard let db = storage.current else { return nil }
        let (metadata, scraping) = (self.metadata, self.scraping)
        let service = RemoteWriteService(
            dataDirectory: options.dataDirectory, logger: logger, userAgent: "Sextant/\(BuildInfo.current.version)",
            flushDeadline: options.remoteFlushDeadline,
            ingest: {
                let s = db.head.stats
                return IngestStats(appended: s.samplesAppended, newest: s.maxTime)
            },
            metadata: {
                scraping.metadata(with: metadata).sorted { $0.key < $1.key }.map { name, m in
                    MetadataEntry(name: name, type: .init(exposition: m.type), help: m.help, unit: m.unit)
                }
            })
        scraping.remoteWrite.withLock { $0 = service }
        return service
    }

    /// The router with every endpoint.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        let metrics = self.metrics
        router.middlewares.add(CountingMiddleware(metrics: metrics))
        if let web = options.webConfig, !web.basicAuthUsers.isEmpty || !web.headers.isEmpty {
            router.middlewares.add(WebAccessMiddleware(users: web.basicAuthUsers, headers: web.headers, selfToken: selfScrapeToken,
                                                       verified: VerifiedCredentials(), threads: requestThreads))
        }
        router.middlewares.add(GzipMiddleware())
        let api = PrometheusAPI(storage: storage, engine: Engine(options: options.engine),
                                limiter: QueryLimiter(limit: options.maxConcurrency, niceness: options.workerNiceness),
                                remoteReadLimiter: QueryLimiter(limit: options.remoteReadConcurrentLimit, niceness: options.workerNiceness),
                                requestThreads: requestThreads,
                                build: .current, metrics: metrics,
                                metadata: metadata, options: options, startTime: startTime, scraping: scraping,
                                reload: { [self] in try self.reloadScrapeConfig() },
                                quit: { [shutdown] in shutdown.trigger() })
        api.register(on: router)
        let (storage, scraping) = (self.storage, self.scraping)
        router.get("/-/healthy") { _, _ in "Sextant is Healthy.\n" }
        router.get("/-/ready") { _, _ -> Response in
            guard storage.current != nil else {
                return Response(status: .serviceUnavailable, body: ResponseBody(byteBuffer: ByteBuffer(string: "Service Unavailable\n")))
            }
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "Sextant is Ready.\n")))
        }
        router.get("/metrics") { _, _ -> Response in
            let remote = (scraping.remoteWrite.withLock { $0 }?.renderMetrics() ?? "")
                + RemoteReadStore.render(scraping.remoteRead.withLock { $0 })
                + (scraping.rules.withLock { $0 }?.renderMetrics() ?? "")
                + (scraping.notifier.withLock { $0 }?.renderMetrics() ?? "")
            let text = storage.current.map { metrics.render(db: $0, build: .current, metadataDropped: metadata.dropped, extra: remote) } ?? ""
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        return router
    }

    /// The HTTP application, with TLS when the web configuration has it; `onRunning` gets the
    /// bound port (useful with port 0). Throws when the certificate or key cannot be read.
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        var server = HTTPServerBuilder.http1()
        if let tls = options.webConfig?.tls {
            server = try .tls(.http1(), tlsConfiguration: tls.serverConfiguration())
        }
        return Application(router: router(), server: server,
                     configuration: .init(address: .hostname(options.host, port: options.port), serverName: "Sextant"),
                     onServerRunning: { channel in
                         let port = channel.localAddress?.port ?? 0
                         scraping.port.set(port)
                         await onRunning(port)
                     },
                     logger: logger)
    }

    /// Sets up scraping once the store is open and the port is known: with `--config.file`,
    /// its jobs; without, this server's own /metrics (when `selfScrape` is set). The loops and
    /// providers begin when `runScraping()` runs.
    public func startScraping() {
        guard let db = storage.current else { return }
        let manager = ScrapeManager(storage: db, logger: logger)
        scraping.manager.withLock { $0 = manager }
        scraping.discovery.withLock { $0 = DiscoveryManager(manager: manager, logger: logger) }
        var notifierOptions = Notifier.Options()
        notifierOptions.capacity = options.notificationQueueCapacity
        notifierOptions.userAgent = "Sextant/\(BuildInfo.current.version)"
        let notifier = Notifier(options: notifierOptions, logger: logger)
        notifier.start()
        scraping.notifier.withLock { $0 = notifier }
        scraping.rules.withLock { $0 = RuleManager(store: db, storage: db, engine: Engine(options: options.engine),
                                                   options: options.rules, logger: logger, notify: { notifier.send($0) }) }
        do { try reloadScrapeConfig() } catch { logger.error("scrape configuration not applied: \(error)") }
    }

    /// Reads the configuration again and applies it: targets that stay keep their loops, new
    /// ones start, removed ones stop and go stale. A bad file is refused and the running
    /// configuration stays.
    public func reloadScrapeConfig() throws(ConfigError) {
        guard let manager = scraping.manager.withLock({ $0 }) else { return }
        if let file = options.configFile {
            let config = try PrometheusConfig.load(file: file)
            // Rule files first: a bad one refuses the whole reload, and the running rules stay.
            do {
                let context = AlertContext(externalLabels: config.externalLabels, externalURL: options.resolvedExternalURL)
                try scraping.rules.withLock { $0 }?.update(files: config.ruleFilePaths(), evaluationInterval: config.evaluationInterval,
                                                           context: context)
            } catch {
                throw ConfigError(path: "rule_files", message: error.description)
            }
            scraping.notifier.withLock { $0 }?.apply(config.alerting, externalLabels: config.externalLabels)
            scraping.discovery.withLock { $0 }?.apply(config)
            scraping.externalLabelsState.withLock { $0 = config.externalLabels }
            scraping.remoteWrite.withLock { $0 }?.update(config.remoteWrite, externalLabels: config.externalLabels)
            applyRemoteRead(config)
            logger.info("loaded \(file): \(config.jobs.count) jobs")
            return
        }
        guard options.selfScrape else { return }
        let port = scraping.port.current ?? 0
        let host = options.host == "0.0.0.0" || options.host == "::" ? "localhost" : options.host
        let interval = options.selfScrapeInterval
        let web = options.webConfig
        if var target = ScrapeTarget.make(discovered: Labels(["__address__": "\(host):\(port)"]), job: "sextant",
                                          scheme: web?.tls == nil ? "http" : "https",
                                          metricsPath: "/metrics", params: [:], interval: interval,
                                          timeout: min(interval, 10_000), relabel: []) {
            if web?.tls != nil {
                var tls = ScrapeTLS()
                tls.insecureSkipVerify = true       // itself, on the address it listens on
                target.tls = tls
            }
            if web?.basicAuthUsers.isEmpty == false { target.credentials = .authorization(type: "Bearer", credentials: .inline(selfScrapeToken)) }
            manager.apply(targets: [target])
        }
        logger.info("scraping its own /metrics at \(host):\(port) every \(interval / 1000)s")
    }

    /// Runs the scrape and discovery managers `startScraping()` set up, as child tasks,
    /// until graceful shutdown or `stopScraping()`.
    public func runScraping() async {
        guard let manager = scraping.manager.withLock({ $0 }), let discovery = scraping.discovery.withLock({ $0 }) else { return }
        await withDiscardingTaskGroup { group in
            group.addTask { await manager.run() }
            group.addTask { await discovery.run() }
        }
    }

    /// Stops rule evaluation and scraping (marking scraped series stale) and closes the
    /// remote read clients.
    public func stopScraping() async {
        if let rules = scraping.rules.withLock({ $0 }) { await rules.stop() }
        if let notifier = scraping.notifier.withLock({ $0 }) { await notifier.stop() }
        scraping.discovery.withLock { $0 }?.stop()
        if let m = scraping.manager.withLock({ $0 }) { await m.shutdown() }
        scraping.manager.withLock { $0 = nil }
        for store in scraping.remoteRead.withLock({ r in defer { r = [] }; return r }) { await store.shutdown() }
    }

    /// Serves until SIGTERM or SIGINT, then lets requests finish and closes the store. The
    /// store opens while the server already answers (/-/ready says 503 until then).
    public func run() async throws {
        let app = try application { port in logger.info("listening on \(options.host):\(port)") }
        let compactor = CompactionService(storage: storage, interval: options.compactionInterval, logger: logger)
        let reloader = ReloadOnHangup(server: self)
        // Services stop in reverse order: scraping first (its series marked stale while the
        // store is open), the HTTP server last.
        var config = ServiceGroupConfiguration(services: [app, compactor, reloader, ScrapingService(server: self)],
                                               gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // In-flight requests get this long to finish before they are cancelled.
        config.maximumGracefulShutdownDuration = .seconds(30)
        let group = ServiceGroup(configuration: config)
        shutdown.set { Task { await group.triggerGracefulShutdown() } }
        do {
            try await group.run()
        } catch {
            await stopScraping()
            storage.current?.close()
            throw error
        }
        storage.current?.close()
        logger.info("closed \(options.dataDirectory)")
    }
}

/// Opens the store (the API answers 503 until then), waits for the port the server bound,
/// then scrapes until graceful shutdown, when every loop stops and marks its series stale.
struct ScrapingService: Service {
    let server: SextantServer

    func run() async throws {
        let server = self.server
        do {
            try await Task.detached { try server.openStorage() }.value
        } catch {
            server.logger.error("cannot open \(server.options.dataDirectory): \(error)")
            throw error
        }
        // A shutdown before the port is known ends the wait.
        let port = try? await cancelWhenGracefulShutdown { await server.scraping.port.value }
        guard port != nil, !Task.isShuttingDownGracefully else { return }
        // Remote write queues start before scraping, so they send its first samples.
        guard let remote = server.makeRemoteWrite() else { return }
        await withDiscardingTaskGroup { group in
            group.addTask { await remote.run() }
            server.startScraping()
            await server.runScraping()
            await server.stopScraping()
            // The queues flush (for up to --storage.remote.flush-deadline) and save positions.
            remote.finish()
        }
    }
}

/// Counts requests for /metrics.
struct CountingMiddleware: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: BasicRequestContext,
                next: (Request, BasicRequestContext) async throws -> Response) async throws -> Response {
        metrics.httpRequests.add(1, ordering: .relaxed)
        let started = ContinuousClock.now
        defer { metrics.httpDuration.observe(ServerMetrics.seconds(ContinuousClock.now - started)) }
        return try await next(request, context)
    }
}

/// Runs compaction and retention every `interval` (a minute by default) until shutdown.
public struct CompactionService: Service {
    let storage: StorageState
    let interval: Duration
    let logger: Logger

    public init(storage: StorageState, interval: Duration, logger: Logger) {
        self.storage = storage
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // The wait ends at once on shutdown.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            guard let db = storage.current else { continue }
            let logger = self.logger
            await Task.detached {
                do { try db.compact() } catch { logger.error("compaction failed: \(error)") }
            }.value
        }
    }
}

/// Begins a graceful shutdown of the running server, once `run()` has said how.
final class ShutdownTrigger: Sendable {
    private let action = Locked<(@Sendable () -> Void)?>(nil)

    func set(_ body: @escaping @Sendable () -> Void) { action.withLock { $0 = body } }

    func trigger() { action.withLock { $0 }?() }
}

/// The scrape manager once scraping runs, and the port the server listens on.
public final class ScrapeState: Sendable {
    let manager = Locked<ScrapeManager?>(nil)
    let discovery = Locked<DiscoveryManager?>(nil)
    /// The port the server bound, once it did.
    let port = OnceValue<Int>()
    /// `global.external_labels` of the configuration in force.
    let externalLabelsState = Locked<Labels>(.empty)
    var externalLabels: Labels { externalLabelsState.withLock { $0 } }
    /// The remote write queues, once the store is open.
    let remoteWrite = Locked<RemoteWriteService?>(nil)
    /// The rule groups of `rule_files`, once the store is open.
    let rules = Locked<RuleManager?>(nil)
    /// Sends the rules' alerts to the configuration's Alertmanagers.
    let notifier = Locked<Notifier?>(nil)
    /// The `remote_read` endpoints of the configuration in force.
    let remoteRead = Locked<[RemoteReadStore]>([])

    /// Metadata of every metric family: imported and received ones, then scraped ones.
    func metadata(with store: MetadataStore) -> [String: MetadataStore.Entry] {
        var entries = store.all
        for loop in manager.withLock({ $0 })?.active ?? [] {
            for (name, m) in loop.metadata where entries[name] == nil { entries[name] = m }
        }
        return entries
    }

    public init() {}
}

/// Reloads the scrape configuration on SIGHUP, as Prometheus does.
struct ReloadOnHangup: Service {
    let server: SextantServer

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            do { try server.reloadScrapeConfig() } catch { server.logger.error("reload refused: \(error)") }
        }
    }
}
