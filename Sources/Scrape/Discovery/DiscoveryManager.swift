import Foundation
import Logging
import ServiceLifecycle
import Storage
import Synchronization

/// Turns a configuration into scrape targets and keeps them current. Static targets are
/// groups of their own; file and Kubernetes discovery run as providers that report the groups
/// that changed. A change relabels only the groups it names and hands the scrape manager the
/// targets that came and went, so an event costs what its object costs, not what all targets
/// cost. A new configuration keeps the providers whose settings did not change (and what they
/// found), and recomputes every job's targets once.
///
/// A `Service`: providers are child tasks of `run()`, which ends on graceful shutdown (or
/// `stop()`) once every provider has stopped. Providers a configuration asks for before
/// `run()` starts begin with it.
public final class DiscoveryManager: Service, Sendable {
    let manager: ScrapeManager
    let logger: Logger
    let timing: InformerTiming
    /// Where in-cluster Kubernetes settings come from (tests give their own).
    let environment: [String: String]
    let serviceAccount: String

    /// A provider: the job it feeds, its kind and its index among the job's configs of that kind.
    struct ProviderKey: Hashable, CustomStringConvertible {
        var job: String
        var kind: String
        var index: Int
        var description: String { "\(job)/\(kind)/\(index)" }
    }

    struct Provider {
        /// Its configuration, to keep it across a reload that did not change it.
        var settings: AnyHashable
        var id: Int
        var handle: StopHandle
    }

    /// A group's targets after relabeling.
    struct Relabeled {
        var active: [ScrapeTarget]
        var dropped: [Labels]
    }

    struct State {
        var jobs: [String: ScrapeJob] = [:]
        var providers: [ProviderKey: Provider] = [:]
        /// What each provider found, by group source (discovered labels).
        var found: [ProviderKey: [String: [Labels]]] = [:]
        /// Relabeled groups by job, keyed `<provider>/<source>`, and each job's active count.
        var groups: [String: [String: Relabeled]] = [:]
        var activeCount: [String: Int] = [:]
        var nextID = 0
    }

    let state = Mutex(State())
    /// Providers to start, taken by `run()`; finished by `stop()`.
    private let starts: AsyncStream<(work: @Sendable () async -> Void, handle: StopHandle)>
    private let startContinuation: AsyncStream<(work: @Sendable () async -> Void, handle: StopHandle)>.Continuation

    public init(manager: ScrapeManager, logger: Logger, timing: InformerTiming = InformerTiming(),
                environment: [String: String] = ProcessInfo.processInfo.environment,
                serviceAccount: String = KubernetesConnection.serviceAccountDirectory) {
        self.manager = manager
        self.logger = logger
        self.timing = timing
        self.environment = environment
        self.serviceAccount = serviceAccount
        (starts, startContinuation) = AsyncStream.makeStream()
    }

    /// Runs the providers until graceful shutdown or `stop()`, then stops them and waits.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await start in starts.cancelOnGracefulShutdown() {
                group.addTask { await start.handle.run(start.work) }
            }
            stopProviders()
        }
    }

    /// Applies a configuration: providers that changed or went away stop (what they found is
    /// forgotten), new ones start, and every job's targets are recomputed.
    public func apply(_ config: PrometheusConfig) {
        state.withLock { s in
            var wanted: [ProviderKey: (settings: AnyHashable, make: () -> any DiscoveryProvider)] = [:]
            s.found = s.found.filter { $0.key.kind != "static" }
            for job in config.jobs {
                s.found[ProviderKey(job: job.name, kind: "static", index: 0)] = Self.sources(job.staticGroups)
                for (i, sd) in job.kubernetesSD.enumerated() {
                    let (timing, logger, environment, account) = (self.timing, self.logger, self.environment, self.serviceAccount)
                    wanted[ProviderKey(job: job.name, kind: "kubernetes", index: i)] = (sd, {
                        KubernetesDiscovery(config: sd, timing: timing, logger: logger, environment: environment, serviceAccount: account)
                    })
                }
                for (i, f) in job.fileSD.enumerated() {
                    let key = ProviderKey(job: job.name, kind: "file", index: i)
                    let stamps = FileSD.modificationTimes(f.files)
                    let groups = FileSD.groups(f.files)
                    s.found[key] = Self.sources(groups)
                    wanted[key] = (FileSettings(files: f.files, refresh: f.refreshInterval),
                                   { FileDiscovery(files: f.files, refreshInterval: f.refreshInterval, initial: groups, initialStamps: stamps) })
                }
            }
            for (key, p) in s.providers where wanted[key]?.settings != p.settings {
                p.handle.stop()
                s.providers[key] = nil
                if key.kind != "file" { s.found[key] = nil }
            }
            for key in s.found.keys where key.kind != "static" && wanted[key] == nil { s.found[key] = nil }
            s.jobs = Dictionary(config.jobs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            recomputeAll(&s)
            for (key, w) in wanted where s.providers[key] == nil {
                s.nextID += 1
                let id = s.nextID, provider = w.make(), handle = StopHandle()
                let work: @Sendable () async -> Void = { [weak self] in
                    await provider.run { [weak self] groups in self?.receive(groups, from: key, id: id) }
                }
                // After `stop()` the stream is finished: no provider starts.
                guard case .enqueued = startContinuation.yield((work, handle)) else { continue }
                s.providers[key] = Provider(settings: w.settings, id: id, handle: handle)
            }
        }
    }

    struct FileSettings: Hashable {
        var files: [String]
        var refresh: Int64
    }

    static func sources(_ groups: [TargetGroup]) -> [String: [Labels]] {
        var out: [String: [Labels]] = [:]
        for g in groups where !g.targets.isEmpty { out[g.source] = g.targets }
        return out
    }

    /// Every job's targets from what the providers found, handed to the scrape manager whole.
    func recomputeAll(_ s: inout State) {
        s.groups = [:]
        s.activeCount = [:]
        var active: [ScrapeTarget] = []
        var dropped: [String: [Labels]] = [:]
        for (key, found) in s.found {
            guard let job = s.jobs[key.job] else { continue }
            for (source, labels) in found {
                let r = job.relabeled(labels)
                let groupKey = "\(key)/\(source)"
                s.groups[job.name, default: [:]][groupKey] = Relabeled(active: r.active, dropped: r.dropped)
                s.activeCount[job.name, default: 0] += r.active.count
                dropped[groupKey] = r.dropped
            }
        }
        for (name, groups) in s.groups where !isLimited(name, s) {
            for g in groups.values { active += g.active }
        }
        manager.apply(targets: active)
        for (group, labels) in dropped { manager.setDropped(labels, group: group) }
    }

    func isLimited(_ job: String, _ s: State) -> Bool {
        guard let limit = s.jobs[job]?.targetLimit, limit > 0 else { return false }
        return s.activeCount[job, default: 0] > limit
    }

    /// Groups a provider reports changed: relabeled, and the difference sent to the manager
    /// (under the lock, so that changes reach it in the order they were made).
    func receive(_ groups: [TargetGroup], from key: ProviderKey, id: Int) {
        state.withLock { s in
            guard s.providers[key]?.id == id, let job = s.jobs[key.job] else { return }
            let wasLimited = isLimited(job.name, s)
            var removing: [ScrapeTarget] = [], adding: [ScrapeTarget] = []
            var changed = Set<String>()
            for g in groups {
                s.found[key, default: [:]][g.source] = g.targets.isEmpty ? nil : g.targets
                let groupKey = "\(key)/\(g.source)"
                changed.insert(groupKey)
                let old = s.groups[job.name]?[groupKey]
                let r = g.targets.isEmpty ? (active: [], dropped: []) : job.relabeled(g.targets)
                s.groups[job.name, default: [:]][groupKey] = g.targets.isEmpty ? nil : Relabeled(active: r.active, dropped: r.dropped)
                s.activeCount[job.name, default: 0] += r.active.count - (old?.active.count ?? 0)
                removing += old?.active ?? []
                adding += r.active
                manager.setDropped(r.dropped, group: groupKey)
            }
            let limited = isLimited(job.name, s)
            switch (wasLimited, limited) {
            case (false, false):
                manager.update(removing: removing, adding: adding)
            case (true, true):
                break
            case (false, true):
                // Over target_limit: every target of the job goes, as Prometheus stops them all.
                logger.warning("job \(job.name): \(s.activeCount[job.name, default: 0]) targets exceed target_limit \(job.targetLimit)")
                let unchanged = (s.groups[job.name] ?? [:]).filter { !changed.contains($0.key) }.values.flatMap(\.active)
                manager.update(removing: unchanged + removing, adding: [])
            case (true, false):
                manager.update(removing: [], adding: (s.groups[job.name] ?? [:]).values.flatMap(\.active))
            }
        }
    }

    /// Stops every provider and ends `run()`.
    public func stop() {
        stopProviders()
        startContinuation.finish()
    }

    private func stopProviders() {
        let handles = state.withLock { s -> [StopHandle] in
            defer { s.providers = [:] }
            return s.providers.values.map(\.handle)
        }
        for h in handles { h.stop() }
    }
}
