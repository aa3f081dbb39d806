import AsyncHTTPClient
import Foundation
import Logging
import NIOSSL
import ServiceLifecycle
import Storage
import Synchronization

/// Runs one scrape loop per target. `apply` replaces the target set, `update` changes it
/// by what discovery found changed: loops of targets that stay keep running (and keep their
/// caches), new ones start, removed ones stop and mark their series stale.
///
/// A `Service`: the loops are child tasks of `run()`, which ends on graceful shutdown (or
/// `shutdown()`) once every loop has stopped and marked its series stale. Loops asked for
/// before `run()` starts begin with it.
public final class ScrapeManager: Service, Sendable {
    let storage: any Appendable
    /// The shared HTTP client (connection reuse across targets).
    public let client: HTTPClient
    let logger: Logger
    /// Running loops with how many discovered groups yield their target (the same target
    /// from two groups is scraped once).
    private let loops = Locked<[ScrapeTarget: Entry]>([:])
    struct Entry {
        let loop: ScrapeLoop
        let handle: StopHandle
        var count: Int
    }
    /// Loops to start, taken by `run()`; finished by `shutdown()`.
    private let starts: AsyncStream<(ScrapeLoop, StopHandle)>
    private let startContinuation: AsyncStream<(ScrapeLoop, StopHandle)>.Continuation
    /// Whether `run()` began, and its end.
    private let running = Atomic<Bool>(false)
    private let finished = OnceValue<Void>()

    /// Clients for targets with their own TLS settings: one per distinct setting, and per
    /// target host when the setting names a server (the client maps the name to the host).
    private let tlsClients = Locked<[TLSClientKey: HTTPClient]>([:])
    struct TLSClientKey: Hashable {
        let tls: ScrapeTLS
        let host: String?
    }
    /// Targets relabeling dropped, by discovered group, for /api/v1/targets.
    private let droppedTargets = Locked<[String: [Labels]]>([:])

    public init(storage: any Appendable, logger: Logger) {
        self.storage = storage
        self.logger = logger
        var config = HTTPClient.Configuration()
        config.decompression = .enabled(limit: .none)
        config.connectionPool = .init(idleTimeout: .seconds(60))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        (starts, startContinuation) = AsyncStream.makeStream()
    }

    /// Runs the loops until graceful shutdown or `shutdown()`; then stops every loop (each
    /// marks its series stale), waits for them, and closes the HTTP clients.
    public func run() async {
        running.store(true, ordering: .sequentiallyConsistent)
        await withDiscardingTaskGroup { group in
            for await (loop, handle) in starts.cancelOnGracefulShutdown() {
                group.addTask { await handle.run { await loop.run() } }
            }
            stopAll()
        }
        await closeClients()
        finished.set(())
    }

    /// Replaces the target set: loops of targets that stay keep running (and keep their
    /// caches), new ones start, removed ones stop and mark their series stale.
    public func apply(targets: [ScrapeTarget], dropped: [Labels] = []) {
        var counts: [ScrapeTarget: Int] = [:]
        for t in targets { counts[t, default: 0] += 1 }
        let total = loops.withLock { current -> Int in
            for (t, entry) in current where counts[t] == nil {
                entry.handle.stop()
                current[t] = nil
            }
            for (t, n) in counts { start(t, count: n, in: &current, replacing: true) }
            return current.count
        }
        droppedTargets.withLock { $0 = ["": dropped] }
        logger.info("scraping \(total) targets")
    }

    /// Changes the target set by what discovery found changed: each removal undoes one
    /// addition; a target's loop stops when no group yields it any more.
    public func update(removing: [ScrapeTarget], adding: [ScrapeTarget]) {
        guard !removing.isEmpty || !adding.isEmpty else { return }
        loops.withLock { current in
            for t in adding { start(t, count: 1, in: &current, replacing: false) }
            for t in removing {
                guard var entry = current[t] else { continue }
                entry.count -= 1
                if entry.count > 0 {
                    current[t] = entry
                } else {
                    entry.handle.stop()
                    current[t] = nil
                }
            }
        }
    }

    /// Adds `count` to a target's loop, starting it if there is none.
    private func start(_ t: ScrapeTarget, count: Int, in current: inout [ScrapeTarget: Entry], replacing: Bool) {
        if var entry = current[t] {
            entry.count = replacing ? count : entry.count + count
            current[t] = entry
            return
        }
        let loop = ScrapeLoop(target: t, storage: storage, client: client(for: t), logger: logger)
        let handle = StopHandle()
        // After shutdown the stream is finished: no loop starts, none is kept.
        guard case .enqueued = startContinuation.yield((loop, handle)) else { return }
        current[t] = Entry(loop: loop, handle: handle, count: count)
    }

    /// Stops every loop; they leave the set.
    private func stopAll() {
        loops.withLock { current in
            for entry in current.values { entry.handle.stop() }
            current = [:]
        }
    }

    /// Sets the dropped targets of one discovered group (none: the group is gone).
    public func setDropped(_ dropped: [Labels], group: String) {
        droppedTargets.withLock { $0[group] = dropped.isEmpty ? nil : dropped }
    }

    /// The client for a target's TLS setting: the shared one without, a client of its own
    /// with (and with `server_name`, one per host, resolving the name to it). A setting whose
    /// files cannot be read keeps the shared client and the scrape fails the certificate
    /// check, with the reason logged.
    public func client(for target: ScrapeTarget) -> HTTPClient {
        guard let tls = target.tls else { return client }
        let override = target.serverNameOverride
        let key = TLSClientKey(tls: tls, host: override?.host)
        return tlsClients.withLock { clients in
            if let c = clients[key] { return c }
            var config = HTTPClient.Configuration()
            config.decompression = .enabled(limit: .none)
            do {
                config.tlsConfiguration = try tls.configuration()
            } catch {
                logger.error("tls_config: \(error)")
                return client
            }
            if let override { config.dnsOverride = [override.name: override.host] }
            let c = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
            clients[key] = c
            return c
        }
    }

    /// The running loops, for /api/v1/targets.
    public var active: [ScrapeLoop] {
        loops.withLock { $0.values.map(\.loop) }.sorted { $0.target.url < $1.target.url }
    }

    public var dropped: [Labels] {
        droppedTargets.withLock { d in d.keys.sorted().flatMap { d[$0] ?? [] } }
    }

    /// Stops every loop (their series are marked stale) and waits for them, then closes the
    /// HTTP clients: what graceful shutdown does, for a caller that runs the manager itself.
    public func shutdown() async {
        stopAll()
        startContinuation.finish()
        if running.load(ordering: .sequentiallyConsistent) {
            _ = await finished.value
        } else {
            await closeClients()
        }
    }

    private func closeClients() async {
        try? await client.shutdown()
        for c in tlsClients.withLock({ Array($0.values) }) { try? await c.shutdown() }
    }
}
