import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Rules
import Scrape
import Storage
import Synchronization

/// Sends alerts to Alertmanagers as Prometheus' notifier does: alerts get the external labels
/// they lack and go through `alert_relabel_configs`, wait in a bounded queue (the oldest
/// dropped when it is full), and leave in batches of at most 64, each POSTed at once to every
/// Alertmanager of every configured set. A batch counts as sent when one Alertmanager took
/// it; one that none took is tried again a few times with growing pauses (Prometheus does not
/// retry; the rules also re-send firing alerts every resend delay), then dropped.
public final class Notifier: Sendable {
    public struct Options: Sendable {
        /// `--alertmanager.notification-queue-capacity`.
        public var capacity = 10_000
        public var maxBatch = 64
        public var userAgent = "Sextant"
        /// A batch no Alertmanager took is sent again this many times, after `retryBackoff`,
        /// then twice that, and so on, before it is dropped.
        public var retries = 3
        public var retryBackoff: Duration = .milliseconds(500)

        public init() {}
    }

    /// One `alertmanagers` entry: its settings, client and the Alertmanagers it found.
    final class AlertmanagerSet: Sendable {
        let config: AlertmanagerConfig
        let client: HTTPClient
        let found = Mutex<(active: [String], dropped: [Labels], at: ContinuousClock.Instant)>(([], [], .now))

        init(_ config: AlertmanagerConfig) throws {
            self.config = config
            var http = HTTPClient.Configuration()
            if config.scheme == "https" { http.tlsConfiguration = try config.http.tls.configuration() }
            http.redirectConfiguration = config.http.followRedirects ? .follow(max: 10, allowCycles: false) : .disallow
            client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
            refresh()
        }

        func refresh() {
            let (active, dropped) = config.alertmanagers()
            found.withLock { $0 = (active, dropped, .now) }
        }

        /// The push URLs, file discovery read again once its refresh interval passed.
        func urls() -> [String] {
            let refreshEvery = config.fileSD.map(\.refreshInterval).min()
            if let refreshEvery, found.withLock({ $0.at.duration(to: .now) > .milliseconds(refreshEvery) }) { refresh() }
            return found.withLock { $0.active }
        }
    }

    struct State {
        var queue: NotificationQueue
        var sets: [AlertmanagerSet] = []
        var externalLabels = Labels.empty
        var relabel: [RelabelConfig] = []
        var sent: [String: Int] = [:]
        var errors: [String: Int] = [:]
        var latency: [String: (sum: Double, count: Int)] = [:]
        var retries = 0
    }

    let options: Options
    let logger: Logger
    let state: Mutex<State>
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>
    private let task = Mutex<Task<Void, Never>?>(nil)

    public init(options: Options = Options(), logger: Logger) {
        self.options = options
        self.logger = logger
        state = Mutex(State(queue: NotificationQueue(capacity: options.capacity)))
        (wakes, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Uses `config`'s Alertmanagers and relabeling from now on; `externalLabels` are added to
    /// every alert that lacks them.
    public func apply(_ config: AlertingConfig, externalLabels: Labels) {
        var sets: [AlertmanagerSet] = []
        for (i, c) in config.alertmanagers.enumerated() {
            do { sets.append(try AlertmanagerSet(c)) } catch {
                logger.error("alerting.alertmanagers[\(i)]: not used: \(error)")
            }
        }
        let old = state.withLock { s in
            defer { s.sets = sets; s.externalLabels = externalLabels; s.relabel = config.alertRelabel }
            return s.sets
        }
        for set in old { Task { try? await set.client.shutdown() } }
        let count = sets.reduce(0) { $0 + $1.urls().count }
        if !sets.isEmpty { logger.info("alerting: \(count) Alertmanagers in \(sets.count) sets") }
    }

    /// Queues `alerts` for sending (after external labels and alert relabeling).
    public func send(_ alerts: [AlertNotification]) {
        state.withLock { s in
            let relabeled = alerts.compactMap { a -> AlertNotification? in
                var a = a
                for l in s.externalLabels where (a.labels[l.name] ?? "").isEmpty { a.labels = a.labels.setting(l.name, to: l.value) }
                guard let l = Relabeling.apply(a.labels, s.relabel), !l.isEmpty else { return nil }
                a.labels = l
                return a
            }
            s.queue.push(relabeled)
        }
        wake.yield()
    }

    /// Starts sending queued alerts.
    public func start() {
        let t = Task { [weak self] in
            guard let wakes = self?.wakes else { return }
            for await _ in wakes {
                guard let self else { return }
                await self.drain()
            }
        }
        task.withLock { $0 = t }
    }

    /// Stops sending; what is queued is dropped.
    public func stop() async {
        wake.finish()
        let t = task.withLock { $0 }
        t?.cancel()
        await t?.value
        let sets = state.withLock { s in defer { s.sets = [] }; return s.sets }
        for set in sets { try? await set.client.shutdown() }
    }

    /// The Alertmanagers in use and the targets relabeling dropped, for the API.
    public func alertmanagers() -> (active: [String], dropped: [Labels]) {
        let sets = state.withLock { $0.sets }
        return (sets.flatMap { $0.urls() }, sets.flatMap { $0.found.withLock { $0.dropped } })
    }

    /// Sends batches until the queue is empty.
    func drain() async {
        while !Task.isCancelled {
            let (batch, sets) = state.withLock { s in (s.queue.take(options.maxBatch), s.sets) }
            guard !batch.isEmpty else { return }
            var delivered = await deliver(batch, to: sets), pause = options.retryBackoff
            for _ in 0..<options.retries where !delivered && !Task.isCancelled && sets.contains(where: { !$0.urls().isEmpty }) {
                state.withLock { $0.retries += 1 }
                try? await Task.sleep(for: pause)
                pause *= 2
                delivered = await deliver(batch, to: sets)
            }
            if !delivered { state.withLock { $0.queue.countDropped(batch.count) } }
        }
    }

    /// POSTs `batch` to every Alertmanager at once; true when one took it.
    private func deliver(_ batch: [AlertNotification], to sets: [AlertmanagerSet]) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            for set in sets {
                let body = AlertPayload.encode(batch, apiVersion: set.config.apiVersion)
                for url in set.urls() {
                    group.addTask { await self.post(body, count: batch.count, to: url, in: set) }
                }
            }
            var delivered = false
            for await ok in group where ok { delivered = true }
            return delivered
        }
    }

    private func post(_ body: Data, count: Int, to url: String, in set: AlertmanagerSet) async -> Bool {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: options.userAgent)
        let started = ContinuousClock.now
        var failure: String?
        do {
            if let auth = try set.config.http.authorizationHeader() { request.headers.add(name: "Authorization", value: auth) }
            request.body = .bytes(ByteBuffer(bytes: body))
            let timeout = min(set.config.timeout, 86_400_000)
            let response = try await set.client.execute(request, timeout: .milliseconds(timeout))
            _ = try? await response.body.collect(upTo: 1 << 20)
            if !(200..<300).contains(response.status.code) { failure = "bad response status \(response.status)" }
        } catch {
            failure = "\(error)"
        }
        let elapsed = started.duration(to: .now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        state.withLock { s in
            s.latency[url, default: (0, 0)].sum += seconds
            s.latency[url, default: (0, 0)].count += 1
            if failure == nil { s.sent[url, default: 0] += count } else { s.errors[url, default: 0] += 1 }
        }
        if let failure { logger.error("alerting: sending \(count) alerts to \(url): \(failure)") }
        return failure == nil
    }
}
