import AsyncHTTPClient
import Foundation
import NIOCore

/// Drives a scrape loop from one event loop of its HTTP client: the timer, the request and,
/// for bodies up to `inlineLimit`, the parsing and appending all run on that thread, so a
/// scrape costs no hand-offs between threads. Larger bodies are processed on the task pool
/// so that one big target does not hold up the others' network traffic.
///
/// Scrapes follow one another: the next one is timed after the previous one is done, at
/// the loop's offset within the interval (missed ticks are skipped, as in Prometheus).
final class ScrapeTicker: @unchecked Sendable {
    let loop: ScrapeLoop
    let eventLoop: any EventLoop
    /// Bodies up to this many bytes are processed on the event loop.
    static let inlineLimit = 1 << 20

    // Touched only on `eventLoop`.
    private var scheduled: Scheduled<Void>?
    private var request: ScrapeLoop.Request?
    private var stopping = false
    /// A large body is being appended on the task pool: stopping waits for it.
    private var appending = false
    /// The last tick's nominal time: the next one comes strictly after it, even when a timer
    /// fired a little early and the scrape was quick.
    private var lastSlot = Int64.min
    private var finished = false
    private let done: EventLoopPromise<Void>

    init(loop: ScrapeLoop, eventLoop: any EventLoop) {
        self.loop = loop
        self.eventLoop = eventLoop
        done = eventLoop.makePromise()
    }

    /// Runs until `stop()`; returns once no scrape is under way.
    func run() async {
        eventLoop.execute { self.scheduleNext() }
        try? await done.futureResult.get()
    }

    /// Ends the loop: a waiting timer is cancelled, a request under way is cancelled and its
    /// outcome dropped.
    func stop() {
        eventLoop.execute {
            self.stopping = true
            self.scheduled?.cancel()
            self.scheduled = nil
            self.request?.cancel()
            if self.request == nil && !self.appending { self.finish() }
        }
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        done.succeed()
    }

    private func scheduleNext() {
        guard !stopping else { return finish() }
        let interval = max(loop.target.interval, 1), offset = loop.offset
        let now = ScrapeLoop.now()
        var next = (now - offset) / interval * interval + offset
        if next < now { next += interval }
        if next <= lastSlot { next = lastSlot + interval }
        lastSlot = next
        scheduled = eventLoop.scheduleTask(in: .milliseconds(next - now)) { self.tick(slot: next) }
    }

    /// Timer slack within which a scrape is stamped with its nominal time (Prometheus'
    /// scrape timestamp tolerance): regular timestamps compress better.
    static let tolerance: Int64 = 2

    private func tick(slot: Int64) {
        scheduled = nil
        guard !stopping else { return finish() }
        let now = ScrapeLoop.now(), started = ContinuousClock.now
        let time = abs(now - slot) <= Self.tolerance ? slot : now
        let request = loop.fetch(on: eventLoop)
        self.request = request
        request.response.whenComplete { result in
            self.request = nil
            guard !self.stopping else { return self.finish() }
            if case .success(let body) = result, body.bytes.count > Self.inlineLimit {
                self.appending = true
                Task {
                    self.loop.complete(result, at: time, started: started)
                    self.eventLoop.execute {
                        self.appending = false
                        self.scheduleNext()
                    }
                }
            } else {
                self.loop.complete(result, at: time, started: started)
                self.scheduleNext()
            }
        }
    }
}
