import AsyncHTTPClient
import Foundation
import Logging
import Scrape
import Storage
import Synchronization
import TSDB

/// Every `remote_write` queue of the configuration in force, each following the WAL of the DB
/// in `dataDirectory` and saving its position under `<data>/remote/`. `apply` on reload keeps
/// the queues whose entry (and the external labels) did not change, stops removed ones (they
/// flush and save first) and starts new ones.
public final class RemoteWriteService: Sendable {
    let dataDirectory: String
    let logger: Logger
    let ingest: @Sendable () -> IngestStats
    let metadata: @Sendable () -> [MetadataEntry]
    let flushDeadline: Duration
    let reshardInterval: Duration
    let userAgent: String
    private let queues = Mutex<[String: Running]>([:])
    private let updates: AsyncStream<([RemoteWriteConfig], Labels)>
    private let updateContinuation: AsyncStream<([RemoteWriteConfig], Labels)>.Continuation
    /// Where queues of the first configuration start when they have no saved position: the
    /// first segment this process writes, so that they send everything since start-up.
    private let initialStart: Mutex<WALPosition?>

    struct Running: Sendable {
        let queue: WriteQueue
        let task: Task<Void, Never>
        let client: HTTPClient
        let identity: String
    }

    /// `reshardInterval` is how often the shard count is reconsidered (Prometheus: 10 s).
    public init(dataDirectory: String, logger: Logger, userAgent: String, flushDeadline: Duration = .seconds(60),
                reshardInterval: Duration = .seconds(10),
                ingest: @escaping @Sendable () -> IngestStats, metadata: @escaping @Sendable () -> [MetadataEntry]) {
        self.dataDirectory = dataDirectory
        self.reshardInterval = reshardInterval
        self.logger = logger
        self.userAgent = userAgent
        self.flushDeadline = flushDeadline
        self.ingest = ingest
        self.metadata = metadata
        (updates, updateContinuation) = AsyncStream.makeStream()
        let segments = WALTail(dataDirectory: dataDirectory).segments
        initialStart = Mutex(segments.last.map { WALPosition(segment: $0, offset: 0) })
    }

    /// Applies the configurations `update` hands in, one after the other, until `finish()`;
    /// then stops every queue (each flushes and saves its position).
    public func run() async {
        for await (configs, externalLabels) in updates { await apply(configs, externalLabels: externalLabels) }
        await stopAll()
    }

    /// Asks `run()` to apply a configuration.
    public func update(_ configs: [RemoteWriteConfig], externalLabels: Labels) {
        updateContinuation.yield((configs, externalLabels))
    }

    /// Ends `run()` after the updates already asked for.
    public func finish() { updateContinuation.finish() }

    var progressDirectory: String { dataDirectory + "/remote" }

    /// Starts, keeps and stops queues to match `configs`.
    func apply(_ configs: [RemoteWriteConfig], externalLabels: Labels) async {
        try? FileManager.default.createDirectory(atPath: progressDirectory, withIntermediateDirectories: true)
        let wanted = Dictionary(configs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let identity = { (c: RemoteWriteConfig) in c.identity + "|" + externalLabels.description }
        let (stale, keep): ([Running], Set<String>) = queues.withLock { q in
            var stale: [Running] = []
            for (name, r) in q where wanted[name].map(identity) != r.identity {
                stale.append(r)
                q[name] = nil
            }
            return (stale, Set(q.keys))
        }
        for r in stale { await stop(r) }
        defer { initialStart.withLock { $0 = nil } }
        for (name, config) in wanted where !keep.contains(name) {
            do {
                let running = try start(config, externalLabels: externalLabels, identity: identity(config))
                queues.withLock { $0[name] = running }
                logger.info("remote_write \(name): sending to \(QueueMetrics.redacted(config.url))")
            } catch {
                logger.error("remote_write \(name): not started: \(error)")
            }
        }
    }

    func start(_ config: RemoteWriteConfig, externalLabels: Labels, identity: String) throws -> Running {
        var http = HTTPClient.Configuration()
        if config.url.hasPrefix("https") { http.tlsConfiguration = try config.http.tls.configuration() }
        http.redirectConfiguration = config.http.followRedirects ? .follow(max: 10, allowCycles: false) : .disallow
        http.connectionPool = .init(idleTimeout: .seconds(60))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
        let writer = WriteClient(url: config.url, timeout: config.remoteTimeout, headers: config.headers, http: config.http,
                                 retryOnRateLimit: config.queue.retryOnRateLimit, client: client, userAgent: userAgent)
        let settings = WriteQueue.Settings(config: config, externalLabels: externalLabels, tail: WALTail(dataDirectory: dataDirectory),
                                           progressPath: progressDirectory + "/" + Self.fileName(config.name) + ".json",
                                           flushDeadline: flushDeadline)
        var settingsWithStart = settings
        settingsWithStart.startWithoutProgress = initialStart.withLock { $0 }
        settingsWithStart.reshardInterval = reshardInterval
        let queue = WriteQueue(settings: settingsWithStart, client: writer, logger: logger, ingest: ingest, metadata: metadata)
        let task = Task { await queue.run() }
        return Running(queue: queue, task: task, client: client, identity: identity)
    }

    func stop(_ r: Running) async {
        r.task.cancel()
        await r.task.value
        try? await r.client.shutdown()
    }

    /// Stops every queue: each flushes for up to the flush deadline and saves its position.
    public func stopAll() async {
        let all = queues.withLock { q in
            defer { q = [:] }
            return Array(q.values)
        }
        await withTaskGroup(of: Void.self) { group in
            for r in all { group.addTask { await self.stop(r) } }
        }
    }

    /// A queue name as a file name: anything but letters, digits, `-` and `_` becomes `_`.
    static func fileName(_ name: String) -> String {
        String(name.unicodeScalars.map { c -> Character in
            CharacterSet.alphanumerics.contains(c) && c.isASCII || c == "-" || c == "_" ? Character(c) : "_"
        })
    }

    /// The queues' metrics in the exposition format.
    public func renderMetrics() -> String {
        let all = queues.withLock { $0.values.map(\.queue.metrics) }.sorted { $0.name < $1.name }
        guard !all.isEmpty else { return "" }
        let newest = ingest().newest
        var out = "# HELP sextant_remote_storage_highest_timestamp_in_seconds Newest sample timestamp appended to the store (what the queues' highest sent timestamps trail).\n"
            + "# TYPE sextant_remote_storage_highest_timestamp_in_seconds gauge\n"
            + "sextant_remote_storage_highest_timestamp_in_seconds \(newest > 0 ? Double(newest) / 1000 : 0)\n"
        for (name, type, help) in QueueMetrics.families {
            let full = "sextant_remote_storage_" + name
            out += "# HELP \(full) \(help)\n# TYPE \(full) \(type)\n"
            for m in all { m.lines { metric, rest in if metric == name { out += full + rest + "\n" } } }
        }
        return out
    }
}
