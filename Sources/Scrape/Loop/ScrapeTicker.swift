import AsyncHTTPClient
import Foundation
import NIOCore

/// Drives a scrape loop from one event loop of its HTTP client by `ScrapeSchedule`'s actions:
/// the timer, the request and, for bodies up to the schedule's inline limit, the parsing and
/// appending all run on that thread, so a scrape costs no hand-offs between threads. Larger
/// bodies are processed on the task pool so that one big target does not hold up the others'
/// network traffic.
///
/// Ownership: `schedule`, `timer` and `request` are touched only on `eventLoop`.
final class ScrapeTicker: @unchecked Sendable {
    let loop: ScrapeLoop
    let eventLoop: any EventLoop
    /// Milliseconds since the epoch (a test's clock in tests).
    let now: @Sendable () -> Int64
    /// Starts a scrape's request (the loop's HTTP request; a fake target in tests).
    let fetch: @Sendable (any EventLoop) -> ScrapeLoop.Request

    private var schedule: ScrapeSchedule
    private var timer: Scheduled<Void>?
    private var request: ScrapeLoop.Request?
    /// When the scrape under way started, for its duration.
    private var started = ContinuousClock.now
    private let done: EventLoopPromise<Void>

    /// Timers run on `eventLoop`'s clock, `now` stamps the scrapes: a test passes an event loop
    /// whose time it advances, a clock that follows it, and a fake `fetch`, and sleeps nowhere.
    init(loop: ScrapeLoop, eventLoop: any EventLoop, now: @escaping @Sendable () -> Int64 = ScrapeLoop.now,
         fetch: (@Sendable (any EventLoop) -> ScrapeLoop.Request)? = nil) {
        self.loop = loop
        self.eventLoop = eventLoop
        self.now = now
        self.fetch = fetch ?? { loop.fetch(on: $0) }
        schedule = ScrapeSchedule(interval: loop.target.interval, offset: loop.offset)
        done = eventLoop.makePromise()
    }

    /// Runs until `stop()`; returns once no scrape is under way.
    func run() async {
        start()
        await finished()
    }

    /// Starts the loop on its event loop.
    func start() {
        eventLoop.execute { self.perform(self.schedule.start(now: self.now())) }
    }

    /// Returns once the loop has stopped and no scrape is under way.
    func finished() async {
        try? await done.futureResult.get()
    }

    /// Ends the loop: a waiting timer is cancelled, a request under way is cancelled and its
    /// outcome dropped, a body being appended is let finish.
    func stop() {
        eventLoop.execute { self.perform(self.schedule.stop()) }
    }

    private func perform(_ action: ScrapeSchedule.Action) {
        switch action {
        case .wait(let slot, let delay):
            timer = eventLoop.scheduleTask(in: .milliseconds(delay)) {
                self.timer = nil
                self.perform(self.schedule.timerFired(slot: slot, now: self.now()))
            }
        case .fetch(let time):
            started = ContinuousClock.now
            let request = fetch(eventLoop)
            self.request = request
            request.response.whenComplete { result in
                self.request = nil
                let bytes: Int? = if case .success(let body) = result { body.bytes.count } else { nil }
                switch self.schedule.responded(bodyBytes: bytes) {
                case .process(_, let inline): self.process(result, at: time, inline: inline)
                case let other: self.perform(other)
                }
            }
        case .process:
            break       // only ever returned with the response, handled there
        case .cancelTimerAndFinish:
            timer?.cancel()
            timer = nil
            done.succeed()
        case .cancelRequest:
            request?.cancel()
        case .finish:
            done.succeed()
        case .none:
            break
        }
    }

    private func process(_ result: Result<BodyCollector.Response, any Error>, at time: Int64, inline: Bool) {
        let started = self.started
        guard !inline else {
            loop.complete(result, at: time, started: started)
            return perform(schedule.processed(now: now()))
        }
        Task {
            self.loop.complete(result, at: time, started: started)
            self.eventLoop.execute { self.perform(self.schedule.processed(now: self.now())) }
        }
    }
}
