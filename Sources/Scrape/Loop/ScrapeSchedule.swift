/// When a scrape loop scrapes, as a state machine: the ticker reports events (started, timer
/// fired, response arrived, body processed, stop asked) with the time it read, and carries out
/// the action each returns. No clock, timer or I/O of its own, so every timing rule is tested
/// by feeding events.
///
/// The rules: scrapes follow one another (the next is timed after the previous one is done),
/// at the target's offset within the interval, each slot strictly after the last (missed slots
/// are skipped, as in Prometheus); a scrape whose timer fires within `tolerance` of its slot is
/// stamped with the slot's time (regular timestamps compress better); bodies over
/// `inlineLimit` bytes are processed off the event loop; a stop cancels a waiting timer or a
/// request under way (its outcome dropped) and waits for a body being processed.
struct ScrapeSchedule: Sendable {
    /// Milliseconds.
    let interval: Int64
    let offset: Int64
    /// Bodies up to this many bytes are processed on the event loop.
    let inlineLimit: Int
    static let defaultInlineLimit = 1 << 20

    /// Timer slack within which a scrape is stamped with its nominal time (Prometheus'
    /// scrape timestamp tolerance).
    static let tolerance: Int64 = 2

    enum Phase: Equatable, Sendable {
        case idle
        case waiting(slot: Int64)
        case fetching(time: Int64)
        case processing(time: Int64)
        case finished
    }

    enum Action: Equatable, Sendable {
        /// Set a timer to fire `delay` ms from now for `slot`.
        case wait(slot: Int64, delay: Int64)
        /// Start the request of a scrape stamped `time`.
        case fetch(time: Int64)
        /// Process the body of the scrape stamped `time`, on the event loop or off it.
        case process(time: Int64, inline: Bool)
        /// Cancel the timer (stop while waiting), then finish.
        case cancelTimerAndFinish
        /// Cancel the request under way; its response will come back as `responded`.
        case cancelRequest
        /// Nothing more will run: the loop is done.
        case finish
        case none
    }

    private(set) var phase = Phase.idle
    private(set) var stopping = false
    /// The last slot scheduled: the next one comes strictly after it, even when a timer fired a
    /// little early and the scrape was quick.
    private var lastSlot = Int64.min

    init(interval: Int64, offset: Int64, inlineLimit: Int = defaultInlineLimit) {
        self.interval = max(interval, 1)
        self.offset = offset
        self.inlineLimit = inlineLimit
    }

    /// The loop starts at `now`.
    mutating func start(now: Int64) -> Action {
        guard phase == .idle else { return .none }
        return next(now: now)
    }

    /// The timer for `slot` fired at `now`.
    mutating func timerFired(slot: Int64, now: Int64) -> Action {
        guard case .waiting(let expected) = phase, expected == slot else { return .none }
        if stopping { return finish() }
        let time = abs(now - slot) <= Self.tolerance ? slot : now
        phase = .fetching(time: time)
        return .fetch(time: time)
    }

    /// The request ended: a body of `bodyBytes` bytes, or a failure (nil).
    mutating func responded(bodyBytes: Int?) -> Action {
        guard case .fetching(let time) = phase else { return .none }
        if stopping { return finish() }
        phase = .processing(time: time)
        return .process(time: time, inline: (bodyBytes ?? 0) <= inlineLimit)
    }

    /// The scrape's body was appended (or its failure recorded) by `now`.
    mutating func processed(now: Int64) -> Action {
        guard case .processing = phase else { return .none }
        if stopping { return finish() }
        return next(now: now)
    }

    /// Stop asked. A body being processed is let finish (`processed` then ends the loop).
    mutating func stop() -> Action {
        stopping = true
        switch phase {
        case .idle: return finish()
        case .waiting:
            phase = .finished
            return .cancelTimerAndFinish
        case .fetching: return .cancelRequest
        case .processing, .finished: return .none
        }
    }

    /// The first slot at the offset after `now` and after the last one.
    private mutating func next(now: Int64) -> Action {
        var slot = now.dividedRoundingDown(by: interval, offset: offset)
        if slot < now { slot += interval }
        if slot <= lastSlot { slot = lastSlot + interval }
        lastSlot = slot
        phase = .waiting(slot: slot)
        return .wait(slot: slot, delay: slot - now)
    }

    private mutating func finish() -> Action {
        phase = .finished
        return .finish
    }
}

extension Int64 {
    /// The largest `k * step + offset` at or below `self` (step > 0), without trapping near
    /// the ends of the range.
    fileprivate func dividedRoundingDown(by step: Int64, offset: Int64) -> Int64 {
        let shifted = self &- offset
        var q = shifted / step
        if shifted % step < 0 { q -= 1 }
        return q &* step &+ offset
    }
}
