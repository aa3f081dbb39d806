import AsyncHTTPClient
import NIOSSL
import Foundation
import Logging
import Synchronization
import TSDB

/// Runs one scrape loop per target. `apply` replaces the target set: loops of targets that
/// stay keep running (and keep their caches), new ones start, removed ones stop and mark
/// their series stale.
public final class ScrapeManager: Sendable {
    let storage: any Appendable
    /// The shared HTTP client (connection reuse across targets).
    public let client: HTTPClient
    let logger: Logger
    private let loops = Locked<[ScrapeTarget: (loop: ScrapeLoop, task: Task<Void, Never>)]>([:])
    /// Clients for targets with their own TLS settings (one per distinct setting).
    private let tlsClients = Locked<[ScrapeTLS: HTTPClient]>([:])
    /// Targets relabeling dropped, by job, for /api/v1/targets.
    private let droppedTargets = Locked<[Labels]>([])

    public init(storage: any Appendable, logger: Logger) {
        self.storage = storage
        self.logger = logger
        var config = HTTPClient.Configuration()
        config.decompression = .enabled(limit: .none)
        config.connectionPool = .init(idleTimeout: .seconds(60))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    public func apply(targets: [ScrapeTarget], dropped: [Labels] = []) {
        let wanted = Set(targets)
        var stopping: [Task<Void, Never>] = []
        loops.withLock { current in
            for (t, entry) in current where !wanted.contains(t) {
                entry.task.cancel()
                stopping.append(entry.task)
                current[t] = nil
            }
            for t in wanted where current[t] == nil {
                let loop = ScrapeLoop(target: t, storage: storage, client: client(for: t.tls), logger: logger)
                current[t] = (loop, Task { await loop.run() })
            }
        }
        droppedTargets.withLock { $0 = dropped }
        logger.info("scraping \(wanted.count) targets")
        _ = stopping
    }

    /// The client for a TLS setting: the shared one without, a client of its own with. A
    /// setting whose files cannot be read keeps the shared client and the scrape fails the
    /// certificate check, with the reason logged.
    public func client(for tls: ScrapeTLS?) -> HTTPClient {
        guard let tls else { return client }
        return tlsClients.withLock { clients in
            if let c = clients[tls] { return c }
            var config = HTTPClient.Configuration()
            config.decompression = .enabled(limit: .none)
            do {
                config.tlsConfiguration = try tls.configuration()
            } catch {
                logger.error("tls_config: \(error)")
                return client
            }
            let c = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
            clients[tls] = c
            return c
        }
    }

    /// The running loops, for /api/v1/targets.
    public var active: [ScrapeLoop] {
        loops.withLock { $0.values.map(\.loop) }.sorted { $0.target.url < $1.target.url }
    }

    public var dropped: [Labels] { droppedTargets.withLock { $0 } }

    /// Stops every loop (their series are marked stale) and the HTTP client.
    public func shutdown() async {
        let tasks = loops.withLock { l -> [Task<Void, Never>] in
            let t = l.values.map(\.task)
            l = [:]
            return t
        }
        for t in tasks { t.cancel() }
        for t in tasks { await t.value }
        try? await client.shutdown()
        for c in tlsClients.withLock({ Array($0.values) }) { try? await c.shutdown() }
    }
}
