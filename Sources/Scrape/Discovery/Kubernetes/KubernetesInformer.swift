import Foundation
import Logging

/// What an informer reports: a complete list (replacing what it reported before), or one
/// object added, changed or deleted.
enum InformerEvent<Object> {
    case listed([Object])
    case upserted(Object)
    case deleted(Object)
}

/// Timing of list and watch, as client-go's reflector does it; tests shorten it.
public struct InformerTiming: Sendable {
    /// Objects per list page (`limit`).
    public var pageSize = 500
    /// A watch asks the server to end it after a random time in this range (`timeoutSeconds`).
    public var watchTimeoutSeconds = 300...600
    /// Backoff after a failure: doubled up to the maximum, plus up to as much again of jitter.
    public var initialBackoff: Duration = .milliseconds(800)
    public var maxBackoff: Duration = .seconds(30)

    public init() {}
}

/// Lists and watches one resource in one namespace (or all) as client-go's reflector does:
/// paginated lists (`limit`/`continue`), a watch from the list's resource version with
/// bookmarks and a server-side timeout, a new watch from the last version when one ends, a new
/// list after 410 Gone (as a status or an ERROR event, also when a continue token expired), and
/// exponential backoff with jitter after errors, longer when the server asks (Retry-After).
struct KubernetesInformer<Object: KubernetesObject>: Sendable {
    let api: KubernetesAPIClient
    let resource: KubernetesResource
    let namespace: String?
    let selector: KubernetesSDConfig.Selector?
    let timing: InformerTiming
    let logger: Logger

    var describe: String { "\(resource.plural)" + (namespace.map { " in \($0)" } ?? "") }

    /// Runs until cancelled, handing every change to `handle` (on the informer's task).
    func run(_ handle: (InformerEvent<Object>) -> Void) async {
        var backoff = Backoff(timing: timing)
        var version: String?
        while !Task.isCancelled {
            do {
                if version == nil {
                    let (items, listed) = try await list()
                    handle(.listed(items))
                    version = listed
                }
                let started = ContinuousClock.now
                let (resume, events) = try await watch(from: version ?? "", handle)
                version = resume
                if events == 0 && ContinuousClock.now - started < .seconds(1) {
                    // A watch the server ends at once, again and again, must not spin.
                    try? await Task.sleep(for: backoff.next())
                } else {
                    backoff.reset()
                }
            } catch let error as KubernetesAPIError where error.isGone {
                // The version is too old (or a continue token expired): list again, after a
                // pause, as client-go does, so a server that keeps answering 410 is not hammered.
                logger.info("kubernetes discovery: \(describe): \(error); listing again")
                version = nil
                try? await Task.sleep(for: backoff.next())
            } catch {
                if Task.isCancelled { return }
                let wait = backoff.next(retryAfter: (error as? KubernetesAPIError).flatMap(\.retryAfter))
                logger.warning("kubernetes discovery: \(describe): \(error); retrying in \(wait)")
                try? await Task.sleep(for: wait)
            }
        }
    }

    var selectorQuery: [(String, String)] {
        var q: [(String, String)] = []
        if let l = selector?.label, !l.isEmpty { q.append(("labelSelector", l)) }
        if let f = selector?.field, !f.isEmpty { q.append(("fieldSelector", f)) }
        return q
    }

    /// Every page of a list; the resource version of the whole list.
    func list() async throws -> ([Object], String) {
        var items: [Object] = []
        var token: String?
        repeat {
            var query = selectorQuery + [("limit", String(timing.pageSize))]
            if let token { query.append(("continue", token)) }
            let page = try await api.listPage(resource.path(namespace: namespace), query: query, as: Object.self)
            items += page.items ?? []
            token = page.metadata?.continue.flatMap { $0.isEmpty ? nil : $0 }
            if token == nil { return (items, page.metadata?.resourceVersion ?? "") }
        } while !Task.isCancelled
        throw CancellationError()
    }

    /// One watch from `version`; the version to resume from when the server ends it, and how
    /// many changes it brought.
    func watch(from version: String, _ handle: (InformerEvent<Object>) -> Void) async throws -> (String, Int) {
        let timeout = Int.random(in: timing.watchTimeoutSeconds)
        let query = selectorQuery + [("watch", "1"), ("resourceVersion", version), ("allowWatchBookmarks", "true"),
                                     ("timeoutSeconds", String(timeout))]
        var last = version
        var events = 0
        try await api.watch(resource.path(namespace: namespace), query: query, timeoutSeconds: timeout, as: Object.self) { event in
            switch event {
            case .added(let o), .modified(let o):
                events += 1
                handle(.upserted(o))
                last = o.metadata.resourceVersion ?? last
            case .deleted(let o):
                events += 1
                handle(.deleted(o))
                last = o.metadata.resourceVersion ?? last
            case .bookmark(let v):
                if !v.isEmpty { last = v }
            case .error:
                break   // thrown by the client
            }
        }
        return (last, events)
    }
}

extension KubernetesAPIError {
    var retryAfter: Double? {
        if case .status(_, _, let seconds) = self { return seconds }
        return nil
    }
}

/// Exponential backoff with jitter: initial, doubled to the maximum, each wait plus up to as
/// much again at random so that many clients do not retry in step.
struct Backoff {
    let timing: InformerTiming
    var current: Duration

    init(timing: InformerTiming) {
        self.timing = timing
        current = timing.initialBackoff
    }

    mutating func reset() { current = timing.initialBackoff }

    mutating func next(retryAfter: Double? = nil) -> Duration {
        let base = current
        current = min(current * 2, timing.maxBackoff)
        var wait = base + base * Double.random(in: 0..<1)
        if let retryAfter, retryAfter > 0, retryAfter < 3600 { wait = max(wait, .milliseconds(Int64(retryAfter * 1000))) }
        return wait
    }
}
