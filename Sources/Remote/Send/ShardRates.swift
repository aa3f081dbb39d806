import Scrape

/// The rates behind the shard count, as Prometheus computes them every 10 s: exponentially
/// weighted (α = 0.2) samples appended and sent per second and send time per second. The
/// desired count sends the incoming rate plus 5 % of the backlog per second at the measured
/// time per sample, changes only outside ±30 % of the current count, and never shrinks while
/// more than 10 s behind.
struct ShardRates {
    var appended = EWMA(), sent = EWMA(), sendSeconds = EWMA()
    var lastAppended = 0, lastSent = 0, lastSendNanoseconds = 0
    var lastTick: ContinuousClock.Instant = .now

    mutating func reset(_ ingest: IngestStats, sent: Int) {
        lastAppended = ingest.appended
        lastSent = sent
        lastTick = .now
    }

    mutating func desiredShards(ingest: IngestStats, sent: Int, sendNanoseconds: Int, highestSent: Int64,
                                current: Int, config: RemoteWriteConfig.QueueConfig) -> (shards: Int, raw: Double) {
        let now = ContinuousClock.now
        let elapsed = max(0.001, Double(lastTick.duration(to: now).components.seconds) + Double(lastTick.duration(to: now).components.attoseconds) / 1e18)
        lastTick = now
        appended.tick(Double(max(0, ingest.appended - lastAppended)) / elapsed)
        self.sent.tick(Double(max(0, sent - lastSent)) / elapsed)
        sendSeconds.tick(Double(max(0, sendNanoseconds - lastSendNanoseconds)) / 1e9 / elapsed)
        lastAppended = ingest.appended
        lastSent = sent
        lastSendNanoseconds = sendNanoseconds
        let outRate = self.sent.rate
        guard outRate > 0 else { return (current, Double(current)) }
        let delay = highestSent > 0 ? max(0, Double(ingest.newest - highestSent) / 1000) : 0
        let backlog = delay * appended.rate
        let timePerSample = sendSeconds.rate / outRate
        let raw = timePerSample * (appended.rate + 0.05 * backlog)
        guard raw.isFinite else { return (current, Double(current)) }
        var desired = Int(min(raw.rounded(.up), Double(config.maxShards)))
        if Double(desired) >= Double(current) * 0.7 && Double(desired) <= Double(current) * 1.3 { return (current, raw) }
        if desired < current && delay > 10 { return (current, raw) }
        desired = min(max(desired, config.minShards), config.maxShards)
        return (desired, raw)
    }
}

/// An exponentially weighted rate: the first tick with events sets it, later ticks move it
/// a fifth of the way to the new figure.
struct EWMA {
    var rate = 0.0
    var initialized = false

    mutating func tick(_ instant: Double) {
        if initialized {
            rate += 0.2 * (instant - rate)
        } else if instant > 0 {
            rate = instant
            initialized = true
        }
    }
}
