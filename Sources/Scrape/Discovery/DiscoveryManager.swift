import Foundation
import Logging
import Synchronization
import TSDB

/// Turns a configuration into scrape targets and keeps them current: static targets at
/// once, files re-read every refresh interval, Kubernetes pods as their watch reports.
/// Every change recomputes the target set and hands it to the scrape manager.
public final class DiscoveryManager: Sendable {
    let manager: ScrapeManager
    let logger: Logger
    struct State {
        var config = PrometheusConfig()
        /// Kubernetes label sets by job name and SD index.
        var kubernetes: [String: [Int: [Labels]]] = [:]
        var tasks: [Task<Void, Never>] = []
    }
    let state = Locked(State())

    public init(manager: ScrapeManager, logger: Logger) {
        self.manager = manager
        self.logger = logger
    }

    /// Replaces the configuration: discovery of the old one stops, the new one starts.
    public func apply(_ config: PrometheusConfig) {
        let old = state.withLock { s -> [Task<Void, Never>] in
            let t = s.tasks
            s = State(config: config)
            return t
        }
        for t in old { t.cancel() }
        var tasks: [Task<Void, Never>] = []
        for job in config.jobs {
            for (i, sd) in job.kubernetesSD.enumerated() {
                guard let endpoint = KubernetesPodDiscovery.endpoint(for: sd, authorization: job.authorization.map { "\($0.type) \($0.credentials)" }) else {
                    logger.error("job \(job.name): no api_server and not running in a cluster; Kubernetes discovery is off")
                    continue
                }
                let name = job.name
                let discovery = KubernetesPodDiscovery(endpoint: endpoint, client: manager.client, logger: logger) { [weak self] labels in
                    self?.state.withLock { $0.kubernetes[name, default: [:]][i] = labels }
                    self?.recompute()
                }
                tasks.append(Task { await discovery.run() })
            }
            for (files, refresh) in job.fileSD {
                // Watched: a change of the files' modification times is picked up within a
                // second; the refresh interval re-reads them regardless.
                tasks.append(Task { [weak self] in
                    var stamps = FileSD.modificationTimes(files)
                    var sinceRefresh: Int64 = 0
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(1))
                        sinceRefresh += 1000
                        let now = FileSD.modificationTimes(files)
                        if now != stamps || sinceRefresh >= refresh {
                            stamps = now
                            sinceRefresh = 0
                            self?.recompute()
                        }
                    }
                })
            }
        }
        state.withLock { $0.tasks = tasks }
        recompute()
    }

    /// Rebuilds every job's targets from what discovery knows and applies them.
    func recompute() {
        let (config, kubernetes) = state.withLock { ($0.config, $0.kubernetes) }
        var active: [ScrapeTarget] = [], dropped: [Labels] = []
        for job in config.jobs {
            let extra = (kubernetes[job.name] ?? [:]).keys.sorted().flatMap { kubernetes[job.name]?[$0] ?? [] }
            let t = job.targets(extra: extra)
            active += t.active
            dropped += t.dropped
        }
        manager.apply(targets: active, dropped: dropped)
    }

    public func stop() {
        let tasks = state.withLock { s -> [Task<Void, Never>] in
            let t = s.tasks
            s.tasks = []
            return t
        }
        for t in tasks { t.cancel() }
    }
}
