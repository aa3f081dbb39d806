@testable import Scrape
import Testing

/// The scrape timing rules, fed events with chosen times: no timer, no sleep.
@Suite struct ScrapeScheduleTests {
    @Test func slotsFollowTheOffsetAndNeverRepeat() {
        var s = ScrapeSchedule(interval: 15_000, offset: 4_000)
        #expect(s.start(now: 100_000) == .wait(slot: 109_000, delay: 9_000))
        // On time: stamped with the slot.
        #expect(s.timerFired(slot: 109_000, now: 109_001) == .fetch(time: 109_000))
        #expect(s.responded(bodyBytes: 10) == .process(time: 109_000, inline: true))
        // A quick scrape: the next slot is the next interval, not this one again.
        #expect(s.processed(now: 109_005) == .wait(slot: 124_000, delay: 14_995))
        // A timer that fired a little early still gives the next slot strictly after it.
        #expect(s.timerFired(slot: 124_000, now: 123_999) == .fetch(time: 124_000))
        #expect(s.responded(bodyBytes: nil) == .process(time: 124_000, inline: true))
        #expect(s.processed(now: 124_000) == .wait(slot: 139_000, delay: 15_000))
    }

    @Test func lateTimersAreStampedWithTheirTimeAndMissedSlotsSkipped() {
        var s = ScrapeSchedule(interval: 1_000, offset: 0)
        #expect(s.start(now: 5_500) == .wait(slot: 6_000, delay: 500))
        // 3 ms late: past the tolerance, the scrape gets its real time.
        #expect(s.timerFired(slot: 6_000, now: 6_003) == .fetch(time: 6_003))
        _ = s.responded(bodyBytes: 1)
        // The scrape took 2.5 intervals: slots 7 000 and 8 000 are skipped.
        #expect(s.processed(now: 8_500) == .wait(slot: 9_000, delay: 500))
        // Events that do not belong to the phase change nothing.
        #expect(s.timerFired(slot: 8_000, now: 9_000) == .none)
        #expect(s.responded(bodyBytes: 1) == .none)
        #expect(s.phase == .waiting(slot: 9_000))
    }

    @Test func largeBodiesAreProcessedOffTheEventLoop() {
        var s = ScrapeSchedule(interval: 1_000, offset: 0, inlineLimit: 100)
        _ = s.start(now: 1)
        _ = s.timerFired(slot: 1_000, now: 1_000)
        #expect(s.responded(bodyBytes: 101) == .process(time: 1_000, inline: false))
    }

    @Test func stopInEveryPhase() {
        var idle = ScrapeSchedule(interval: 1_000, offset: 0)
        #expect(idle.stop() == .finish)

        var waiting = ScrapeSchedule(interval: 1_000, offset: 0)
        _ = waiting.start(now: 1)
        #expect(waiting.stop() == .cancelTimerAndFinish)
        #expect(waiting.timerFired(slot: 1_000, now: 1_000) == .none)

        // A request under way is cancelled; its response, whatever it is, ends the loop.
        var fetching = ScrapeSchedule(interval: 1_000, offset: 0)
        _ = fetching.start(now: 1)
        _ = fetching.timerFired(slot: 1_000, now: 1_000)
        #expect(fetching.stop() == .cancelRequest)
        #expect(fetching.responded(bodyBytes: 10) == .finish)
        #expect(fetching.phase == .finished)

        // A body being appended is let finish; then the loop ends instead of waiting again.
        var processing = ScrapeSchedule(interval: 1_000, offset: 0)
        _ = processing.start(now: 1)
        _ = processing.timerFired(slot: 1_000, now: 1_000)
        _ = processing.responded(bodyBytes: 10)
        #expect(processing.stop() == .none)
        #expect(processing.processed(now: 1_010) == .finish)
    }

    /// Offsets and times at the ends of the range do not trap, and every slot is at the
    /// offset within the interval and after the time it was asked at.
    @Test(arguments: [Int64(1), 7, 15_000, 86_400_000, Int64.max / 4])
    func slotsAtExtremeTimes(interval: Int64) {
        for now in [Int64(0), 1, 1_700_000_000_000, Int64.max / 2, -1_000] {
            let offset = interval / 3
            var s = ScrapeSchedule(interval: interval, offset: offset)
            guard case .wait(let slot, let delay) = s.start(now: now) else {
                Issue.record("no wait")
                continue
            }
            #expect(slot >= now && delay == slot - now && delay < interval)
            #expect((slot - offset) % interval == 0)
        }
    }
}
