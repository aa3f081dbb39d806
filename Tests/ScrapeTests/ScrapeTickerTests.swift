import AsyncHTTPClient
@testable import Exposition
import Logging
import NIOCore
import NIOEmbedded
@testable import Scrape
import Storage
import Synchronization
import TestSupport
import Testing

/// A target in process: each fetch answers the current body at once, or, while `hold` is set,
/// only when the test releases it.
final class ScriptedTarget: Sendable {
    struct State {
        var body = "m 1\n"
        var hold = false
        var held: [EventLoopPromise<BodyCollector.Response>] = []
        /// Times (by the test's clock) of every fetch.
        var fetches: [Int64] = []
    }

    let state = Mutex(State())
    let clock: @Sendable () -> Int64

    init(clock: @escaping @Sendable () -> Int64) { self.clock = clock }

    func fetch(on loop: any EventLoop) -> ScrapeLoop.Request {
        let promise = loop.makePromise(of: BodyCollector.Response.self)
        let now = clock()
        let answer: String? = state.withLock { s in
            s.fetches.append(now)
            if s.hold { s.held.append(promise) }
            return s.hold ? nil : s.body
        }
        if let answer { promise.succeed((Array(answer.utf8), "text/plain; version=0.0.4")) }
        return ScrapeLoop.Request(response: promise.futureResult, task: nil)
    }

    /// Answers the held fetches with the current body (or fails them).
    func release(failing: Bool = false) {
        let (held, body) = state.withLock { s in
            defer { s.held = []; s.hold = false }
            return (s.held, s.body)
        }
        for p in held {
            if failing { p.fail(CancellationError()) } else { p.succeed((Array(body.utf8), "text/plain; version=0.0.4")) }
        }
    }

    var fetches: [Int64] { state.withLock { $0.fetches } }
}

/// The scrape loop's timing, driven on an event loop whose clock the test moves: no test here
/// sleeps, and every time is exact.
@Suite struct ScrapeTickerTests {
    /// A ticker over a scripted target on a test event loop, writing into a store in memory.
    struct Rig {
        static let base: Int64 = 1_764_000_000_000
        let eventLoop = NIOAsyncTestingEventLoop()
        let store = RecordingStore()
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let target: ScriptedTarget
        let loop: ScrapeLoop
        let ticker: ScrapeTicker
        let interval: Int64 = 10_000

        init() throws {
            let eventLoop = eventLoop
            let now: @Sendable () -> Int64 = { Rig.base + Int64(eventLoop.now.uptimeNanoseconds / 1_000_000) }
            target = ScriptedTarget(clock: now)
            let t = try #require(ScrapeTarget.make(discovered: Labels(["__address__": "fake:9100"]), job: "j", scheme: "http",
                                                   metricsPath: "/metrics", params: [:], interval: interval, timeout: 5_000, relabel: []))
            loop = ScrapeLoop(target: t, storage: store, client: client, logger: Logger(label: "test"))
            let target = target
            ticker = ScrapeTicker(loop: loop, eventLoop: eventLoop, now: now, fetch: { target.fetch(on: $0) })
        }

        /// The first slot of the loop's offset at or after the start.
        var firstSlot: Int64 {
            let within = ((Rig.base - loop.offset) % interval + interval) % interval
            return within == 0 ? Rig.base : Rig.base - within + interval
        }

        /// Moves the clock to `t` (ms since the epoch), running what falls due.
        func advance(to t: Int64) async {
            await eventLoop.advanceTime(to: .uptimeNanoseconds(UInt64(t - Rig.base) * 1_000_000))
        }

        var m: [Int64] { store.samples(Labels(["__name__": "m", "instance": "fake:9100", "job": "j"])).map(\.t) }
        var up: [Double] { store.samples(Labels(["__name__": "up", "instance": "fake:9100", "job": "j"])).map(\.v) }

        /// Stops the loop and waits for it to end.
        func stop() async {
            ticker.stop()
            await eventLoop.run()
            await ticker.finished()
        }

        func close() async throws {
            try await client.shutdown()
            await eventLoop.shutdownGracefully()
        }
    }

    @Test func scrapesAtItsOffsetOncePerInterval() async throws {
        let rig = try Rig()
        rig.ticker.start()
        await rig.eventLoop.run()
        let first = rig.firstSlot
        await rig.advance(to: first - 1)
        #expect(rig.target.fetches.isEmpty)
        await rig.advance(to: first + 3 * rig.interval)
        #expect(rig.target.fetches == [0, 1, 2, 3].map { first + $0 * rig.interval })
        #expect(rig.m == rig.target.fetches, "each scrape stamped with its slot")
        #expect(rig.up == [1, 1, 1, 1])
        await rig.stop()
        try await rig.close()
    }

    @Test func aSlowScrapeSkipsTheSlotsItMissedAndNeverOverlaps() async throws {
        let rig = try Rig()
        let first = rig.firstSlot
        rig.target.state.withLock { $0.hold = true }
        rig.ticker.start()
        await rig.advance(to: first)
        await rig.advance(to: first + 2 * rig.interval + rig.interval / 2)
        #expect(rig.target.fetches == [first], "no second request while the first is under way")
        rig.target.release()
        await rig.eventLoop.run()
        #expect(rig.m == [first], "the slow scrape keeps the time of its slot")
        await rig.advance(to: first + 3 * rig.interval)
        #expect(rig.target.fetches == [first, first + 3 * rig.interval], "the missed slots are skipped")
        await rig.stop()
        try await rig.close()
    }

    @Test func stopDropsTheScrapeUnderWayAndEndsTheLoop() async throws {
        let rig = try Rig()
        let first = rig.firstSlot
        rig.ticker.start()
        await rig.advance(to: first)
        rig.target.state.withLock { $0.hold = true; $0.body = "m 2\n" }
        await rig.advance(to: first + rig.interval)
        rig.ticker.stop()
        await rig.eventLoop.run()
        rig.target.release(failing: true)        // the cancelled request comes back
        await rig.eventLoop.run()
        await rig.ticker.finished()
        #expect(rig.m == [first], "the dropped scrape wrote nothing")
        #expect(rig.up == [1])
        await rig.advance(to: first + 5 * rig.interval)
        #expect(rig.target.fetches == [first, first + rig.interval], "nothing runs after the stop")
        try await rig.close()
    }
}
