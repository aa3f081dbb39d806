import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Scrape
import Storage
import Synchronization
import TSDB

/// What the store tells a queue about ingestion: samples appended so far and the newest
/// sample's time (the backlog is the distance from it to the newest sample sent).
public struct IngestStats: Sendable {
    public var appended: Int
    public var newest: Int64

    public init(appended: Int, newest: Int64) {
        self.appended = appended
        self.newest = newest
    }
}

/// One metric family's metadata for `metadata_config`.
public struct MetadataEntry: Sendable {
    public var name: String
    public var type: Prometheus_MetricMetadata.MetricType
    public var help: String
    public var unit: String

    public init(name: String, type: Prometheus_MetricMetadata.MetricType, help: String, unit: String) {
        self.name = name
        self.type = type
        self.help = help
        self.unit = unit
    }
}

/// One `remote_write` queue: follows the WAL from its saved position, turns samples into
/// batches per shard (a series always goes to the same shard, so its samples arrive in
/// order), sends each batch with retries, and saves how far every shard got once its batch
/// is acknowledged (or dropped for good). The shard count follows the backlog.
final class WriteQueue: Sendable {
    struct Settings: Sendable {
        var config: RemoteWriteConfig
        var externalLabels: Labels
        var tail: WALTail
        var progressPath: String
        /// How long shutdown waits for queued batches (`--storage.remote.flush-deadline`).
        var flushDeadline: Duration
        /// Where to start without a saved position (nil: the end of the WAL, as Prometheus).
        var startWithoutProgress: WALPosition?
        var pollInterval: Duration = .milliseconds(50)
        var reshardInterval: Duration = .seconds(10)
    }

    let settings: Settings
    let client: WriteClient
    let metrics: QueueMetrics
    let logger: Logger
    let ingest: @Sendable () -> IngestStats
    let metadata: @Sendable () -> [MetadataEntry]
    let tracker: Mutex<Tracker>
    /// Monotonic milliseconds of the last finished batch (resharding waits for a recent one).
    let lastFinished = Atomic<Int64>(0)
    let sentSamples = Atomic<Int>(0)

    var config: RemoteWriteConfig { settings.config }

    init(settings: Settings, client: WriteClient, logger: Logger,
         ingest: @escaping @Sendable () -> IngestStats, metadata: @escaping @Sendable () -> [MetadataEntry]) {
        self.settings = settings
        self.client = client
        self.logger = logger
        self.ingest = ingest
        self.metadata = metadata
        let q = settings.config.queue
        metrics = QueueMetrics(name: settings.config.name, url: settings.config.url, minShards: q.minShards, maxShards: q.maxShards,
                               capacity: q.capacity, maxSamplesPerSend: q.maxSamplesPerSend)
        tracker = Mutex(Tracker(shards: 0, handled: [], outstanding: []))
    }

    /// Per shard: the position before which everything is sent, and batches not yet finished.
    struct Tracker {
        var shards: Int
        var handled: [WALPosition]
        var outstanding: [Int]
        var lastSave: Int64 = 0

        var progress: SendProgress { SendProgress(shards: shards, positions: handled) }
    }

    /// Runs until cancelled; then gives queued batches `flushDeadline` to go out and saves the
    /// progress.
    func run() async {
        await withDiscardingTaskGroup { group in
            if config.metadata.send { group.addTask { await self.sendMetadataLoop() } }
            group.addTask {
                let reader = QueueReader(queue: self)
                await reader.run()
            }
        }
    }

    /// Records a finished batch of `shard` and saves the progress.
    func finished(_ batch: Batch, shard: Int, generation: Int) {
        tracker.withLock { t in
            guard t.shards == generation, shard < t.shards else { return }
            t.handled[shard] = max(t.handled[shard], batch.end)
            t.outstanding[shard] -= 1
            // At most four saves a second (a save is a file written and renamed); the reader
            // saves too, and shutdown always does, so a crash repeats at most 250 ms of sends.
            let now = Self.uptimeMillis()
            if now - t.lastSave >= 250 {
                t.lastSave = now
                save(t.progress)
            }
        }
        metrics.samplesPending.subtract(batch.count, ordering: .relaxed)
    }

    /// Writes the progress file; called under the tracker's lock, so saves never overtake
    /// each other.
    func save(_ progress: SendProgress) {
        do { try progress.save(settings.progressPath) } catch {
            logger.error("remote_write \(config.name): saving the send position to \(settings.progressPath): \(error)")
        }
    }

    /// Sends one shard's batches until its channel is closed and drained.
    func shardLoop(_ shard: Int, generation: Int, _ channel: BatchChannel<Batch>) async {
        while let batch = await channel.receive() {
            guard await deliver(batch) else {
                // Cancelled mid-retry: not acknowledged, so sent again after a restart.
                metrics.samplesPending.subtract(batch.count, ordering: .relaxed)
                continue
            }
            finished(batch, shard: shard, generation: generation)
        }
    }

    /// Sends a batch until it is acknowledged or dropped for good; false when cancelled first.
    func deliver(_ batch: Batch) async -> Bool {
        let body = batch.encoded()
        let done = await sendWithBackoff(body, count: batch.count, what: "samples")
        guard let ok = done else { return false }
        if ok {
            metrics.bytesSent.add(body.count, ordering: .relaxed)
            sentSamples.add(batch.count, ordering: .relaxed)
        } else {
            metrics.samplesFailed.add(batch.count, ordering: .relaxed)
        }
        QueueMetrics.raiseMax(metrics.highestSentMillis, batch.maxTime)
        lastFinished.store(Self.uptimeMillis(), ordering: .relaxed)
        return true
    }

    /// Posts `body` until acknowledged (true), refused for good (false), or cancelled (nil),
    /// sleeping `min_backoff` doubling to `max_backoff` (or a 429's Retry-After) between tries.
    func sendWithBackoff(_ body: [UInt8], count: Int, what: String) async -> Bool? {
        var backoff = config.queue.minBackoff
        var warned = false
        while true {
            if Task.isCancelled { return nil }
            if what == "samples" { metrics.samplesSent.add(count, ordering: .relaxed) }
            let start = ContinuousClock.now
            let outcome = await client.send(body)
            let elapsed = start.duration(to: .now)
            metrics.sendNanoseconds.add(Int(elapsed.components.seconds) * 1_000_000_000 + Int(elapsed.components.attoseconds / 1_000_000_000),
                                        ordering: .relaxed)
            metrics.batchesSent.add(1, ordering: .relaxed)
            switch outcome {
            case .sent:
                if warned { logger.info("remote_write \(config.name): sending \(what) again succeeds") }
                return true
            case .drop(let reason):
                logger.error("remote_write \(config.name): non-recoverable error, \(count) \(what) dropped: \(reason)")
                return false
            case .retry(let reason, let retryAfter):
                if Task.isCancelled { return nil }
                if !warned { logger.warning("remote_write \(config.name): failed to send \(count) \(what), retrying: \(reason)") }
                warned = true
                if what == "samples" {
                    metrics.samplesRetried.add(count, ordering: .relaxed)
                } else {
                    metrics.metadataRetried.add(count, ordering: .relaxed)
                }
                let sleep = retryAfter.map { max($0, 0) } ?? backoff
                do { try await Task.sleep(for: .milliseconds(sleep)) } catch { return nil }
                let doubled = max(sleep, 1).multipliedReportingOverflow(by: 2)
                backoff = doubled.overflow ? config.queue.maxBackoff : min(doubled.partialValue, config.queue.maxBackoff)
            }
        }
    }

    /// Milliseconds of the monotonic clock.
    static func uptimeMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Every `send_interval`, the metadata of every family, in requests of at most
    /// `max_samples_per_send` entries.
    func sendMetadataLoop() async {
        while !Task.isCancelled {
            let entries = metadata()
            for start in stride(from: 0, to: entries.count, by: config.metadata.maxSamplesPerSend) {
                var request = Prometheus_WriteRequest()
                request.metadata = entries[start..<min(start + config.metadata.maxSamplesPerSend, entries.count)].map { e in
                    var m = Prometheus_MetricMetadata()
                    m.metricFamilyName = e.name
                    m.type = e.type
                    m.help = e.help
                    m.unit = e.unit
                    return m
                }
                guard let bytes = try? request.serializedBytes() as [UInt8] else { continue }
                let body = Snappy.compress(bytes)
                let n = request.metadata.count
                switch await sendWithBackoff(body, count: n, what: "metadata") {
                case .some(true):
                    metrics.metadataSent.add(n, ordering: .relaxed)
                    metrics.metadataBytes.add(body.count, ordering: .relaxed)
                case .some(false): metrics.metadataFailed.add(n, ordering: .relaxed)
                case .none: return
                }
            }
            do { try await Task.sleep(for: .milliseconds(config.metadata.sendInterval)) } catch { return }
        }
    }
}
