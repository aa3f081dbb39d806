import Foundation
import Scrape
import Storage
import TSDB

/// The reading side of a `WriteQueue`, owned by its one task: follows the WAL, keeps each
/// series ref's labels (external labels merged, `write_relabel_configs` applied), fills the
/// shards' batches and hands them to the shard tasks, and changes the shard count.
///
/// Used by one task at a time (the queue's reading task, and the flush at its end), hence
/// `@unchecked Sendable`.
final class QueueReader: @unchecked Sendable {
    let queue: WriteQueue
    var tail: WALTail { queue.settings.tail }
    var config: RemoteWriteConfig { queue.config }
    /// Each series ref's slot in the arrays below.
    var slots = RefSlots()
    /// By slot: encoded labels (none for a series write relabeling dropped), and which batch
    /// last took the series and at which index (so a batch needs no dictionary of its own).
    var labels = WireLabelStore()
    var slotBatch: [UInt64] = []
    var slotOwner: [Int32] = []
    /// Per shard, the id of its partial batch (ids are never reused).
    var batchIDs: [UInt64] = []
    var nextBatchID: UInt64 = 1
    var position = WALPosition(segment: 0, offset: 0)
    /// What a previous run already sent (its own shard mapping), until reading passes it.
    var filter: SendProgress?
    var partial: [Batch] = []
    var channels: [BatchChannel<Batch>] = []
    var shardTasks: [Task<Void, Never>] = []
    var shards = 0
    var rates = ShardRates()
    var nextReshardCheck = ContinuousClock.now
    var lastSave = ContinuousClock.now

    init(queue: WriteQueue) { self.queue = queue }

    func run() async {
        let saved = SendProgress.load(queue.settings.progressPath)
        let segments = tail.segments
        let start: WALPosition
        if let saved, let s = saved.start {
            start = s
            filter = saved
        } else if let s = queue.settings.startWithoutProgress, segments.contains(s.segment) {
            start = s
        } else {
            // A queue added later sends what is written from now on, as Prometheus' does.
            let last = segments.last ?? 0
            start = WALPosition(segment: last, offset: tail.size(of: last))
        }
        loadSeries(upTo: start.segment)
        position = start
        let q = config.queue
        let initialShards = min(max(saved?.shards ?? q.minShards, q.minShards), q.maxShards)
        startShards(initialShards, handled: saved.flatMap { $0.shards == initialShards ? $0.positions : nil })
        if saved != nil {
            queue.logger.info("remote_write \(config.name): resuming at WAL \(start) with \(initialShards) shards")
        }
        rates.reset(queue.ingest(), sent: queue.sentSamples.load(ordering: .relaxed))
        nextReshardCheck = .now + queue.settings.reshardInterval
        while !Task.isCancelled {
            let behind = await readMore()
            advanceIdleShards()
            await flushExpired()
            if ContinuousClock.now >= nextReshardCheck { await maybeReshard() }
            if ContinuousClock.now - lastSave > .milliseconds(250) { saveProgress() }
            if !behind {
                // Caught up: wait for more to gather rather than reading each commit as it
                // lands (profiled: a read per commit cost more in files, tasks and locks
                // than the samples did).
                try? await Task.sleep(for: queue.settings.pollInterval)
            }
        }
        await shutdown()
    }

    // MARK: Reading

    /// Reads what is new in the current segment, moving to the next one when it is finished.
    /// True when there may be more to read right away: the read was cut at its size limit
    /// or moved to another segment.
    func readMore() async -> Bool {
        var records: [(WALTailRecord, Int)] = []
        let read: WALTail.Read
        let maxBytes = 4 << 20
        do {
            read = try tail.read(segment: position.segment, from: position.offset, maxBytes: maxBytes) { records.append(($0, $1)) }
        } catch {
            return skipMissingSegment()
        }
        queue.metrics.walSegment.store(position.segment, ordering: .relaxed)
        for (record, offset) in records {
            switch record {
            case .series(let series):
                for s in series { learn(s.ref, s.labels) }
            case .samples(let samples):
                await enqueue(samples, segment: position.segment, offset: offset)
                if Task.isCancelled { return true }
            }
        }
        let moved = read.end - position.offset
        position = WALPosition(segment: position.segment, offset: read.end)
        if let f = filter, let last = f.positions.max(), position > last { filter = nil }
        if moved > 0 { return moved >= maxBytes / 2 }
        // Nothing new here. A later segment means this one is final: records that landed
        // between the read and the listing are read next round; bytes that still do not read
        // as a record are a damaged end, skipped with a warning.
        guard let next = tail.segments.first(where: { $0 > position.segment }) else { return false }
        if position.offset < tail.size(of: position.segment) {
            var any = false
            _ = try? tail.read(segment: position.segment, from: position.offset, maxBytes: 16 << 20) { _, _ in any = true }
            if any { return true }
            queue.logger.warning("remote_write \(config.name): WAL segment \(position.segment) unreadable after offset \(position.offset) (\(read.stopped ?? "")); going on with segment \(next)")
        }
        position = WALPosition(segment: next, offset: 0)
        return true
    }

    /// The current segment is gone: the DB checkpointed it before it was read (the queue was
    /// further behind than the WAL keeps). Go on from the oldest segment left, with the series
    /// the checkpoint keeps.
    func skipMissingSegment() -> Bool {
        let segments = tail.segments
        guard let first = segments.first(where: { $0 > position.segment }) else { return false }
        queue.metrics.walGaps.add(1, ordering: .relaxed)
        queue.logger.error("remote_write \(config.name): WAL segment \(position.segment) was removed before it was sent; samples were lost, going on with segment \(first)")
        if let checkpoint = tail.latestCheckpoint {
            try? tail.readCheckpointSeries(checkpoint) { for s in $0 { learn(s.ref, s.labels) } }
        }
        position = WALPosition(segment: first, offset: 0)
        filter = nil
        return true
    }

    /// Series records of the checkpoint and of the segments before `segment` (and of it),
    /// so that samples read from the start position find their labels.
    func loadSeries(upTo segment: Int) {
        if let checkpoint = tail.latestCheckpoint {
            try? tail.readCheckpointSeries(checkpoint) { for s in $0 { learn(s.ref, s.labels) } }
        }
        for index in tail.segments where index <= segment {
            var offset = 0
            while true {
                guard let read = try? tail.read(segment: index, from: offset, maxBytes: 16 << 20, { record, _ in
                    if case .series(let series) = record { for s in series { learn(s.ref, s.labels) } }
                }), read.end > offset else { break }
                offset = read.end
            }
        }
    }

    /// Records a series record's labels under its ref.
    func learn(_ ref: SeriesRef, _ series: Labels) {
        let wire = wireLabels(series)
        if let slot = slots[ref] {
            labels.set(Int(slot), wire)
            slotBatch[Int(slot)] = 0        // new labels: not in any batch under the old ones
        } else {
            guard slots.count < Int32.max else { return }
            let slot = slots.add(ref)
            labels.set(Int(slot), wire)
            slotBatch.append(0)
            slotOwner.append(0)
        }
    }

    /// External labels merged under the series' own, then write relabeling; nil when dropped.
    func wireLabels(_ series: Labels) -> WireSeries? {
        var l = series
        for e in queue.settings.externalLabels where l[e.name] == nil { l = l.setting(e.name, to: e.value) }
        if !config.writeRelabel.isEmpty {
            guard let relabeled = Relabeling.apply(l, config.writeRelabel), !relabeled.isEmpty else { return nil }
            l = relabeled
        }
        return WireSeries(l)
    }

    // MARK: Batching

    func enqueue(_ samples: [WALSample], segment: Int, offset: Int) async {
        // (A saved position may name a sample index past the record's end: none is skipped twice.)
        var i = position.segment == segment && position.offset == offset ? min(position.sample, samples.count) : 0
        while i < samples.count {
            guard let shard = fill(samples, from: &i, segment: segment, offset: offset) else { return }
            // Where reading resumes if cancelled while this send waits for room.
            position = WALPosition(segment: segment, offset: offset, sample: i)
            await hand(shard)
            if Task.isCancelled { return }
            // A long backlog keeps the reader here: the shard count is reconsidered here too.
            if ContinuousClock.now >= nextReshardCheck { await maybeReshard() }
        }
    }

    /// Adds samples from `i` on to their shards' batches until one is full (returns that
    /// shard, `i` after the sample that filled it) or the record ends (nil). Synchronous, on
    /// local copies of the reader's arrays: the per-sample path has no access checks on the
    /// class's properties and no reference counting.
    func fill(_ samples: [WALSample], from i: inout Int, segment: Int, offset: Int) -> Int? {
        var partial = self.partial, slotBatch = self.slotBatch, slotOwner = self.slotOwner
        self.partial = []
        self.slotBatch = []
        self.slotOwner = []
        defer {
            self.partial = partial
            self.slotBatch = slotBatch
            self.slotOwner = slotOwner
        }
        let filter = self.filter, batchIDs = self.batchIDs, shards = UInt64(self.shards)
        let slots = self.slots, labels = self.labels
        let maxSamples = config.queue.maxSamplesPerSend
        var newest = Int64.min, dropped = 0, pending = 0
        defer {
            QueueMetrics.raiseMax(queue.metrics.highestReadMillis, newest)
            queue.metrics.samplesDropped.add(dropped, ordering: .relaxed)
            queue.metrics.samplesPending.add(pending, ordering: .relaxed)
        }
        return labels.bytes.withUnsafeBufferPointer { bytes -> Int? in
            var previous = -1
            while i < samples.count {
                let sample = samples[i]
                let at = WALPosition(segment: segment, offset: offset, sample: i)
                i += 1
                if let filter, filter.handled(sample.ref, at: at) { continue }
                if sample.t > newest { newest = sample.t }
                guard let slot = slots.slot(of: sample.ref, after: previous) else {
                    dropped += 1
                    continue
                }
                previous = slot
                let shard = Int(sample.ref % shards)
                let owner: Int32
                if slotBatch[slot] == batchIDs[shard] {
                    owner = slotOwner[slot]
                } else if let range = labels.range(slot) {
                    owner = partial[shard].addSeries(UnsafeBufferPointer(rebasing: bytes[range]))
                    slotBatch[slot] = batchIDs[shard]
                    slotOwner[slot] = owner
                } else {
                    dropped += 1
                    continue
                }
                partial[shard].add(owner: owner, sample.t, sample.v, at: at)
                pending += 1
                if partial[shard].count >= maxSamples { return shard }
            }
            return nil
        }
    }

    /// Hands `shard`'s partial batch to its sender, waiting while its queue is full.
    func hand(_ shard: Int) async {
        let batch = partial[shard]
        guard !batch.isEmpty else { return }
        partial[shard] = batch.successor(capacity: config.queue.maxSamplesPerSend)
        batchIDs[shard] = nextBatchID
        nextBatchID += 1
        queue.tracker.withLock { $0.outstanding[shard] += 1 }
        if !(await channels[shard].send(batch)) {
            // Cancelled while the shard's queue was full: not sent, so not acknowledged; the
            // saved position keeps these samples for the next run.
            queue.tracker.withLock { $0.outstanding[shard] -= 1 }
            queue.metrics.samplesPending.subtract(batch.count, ordering: .relaxed)
        }
    }

    /// Partial batches older than `batch_send_deadline` go out.
    func flushExpired() async {
        let deadline = Duration.milliseconds(config.queue.batchSendDeadline)
        for shard in 0..<shards {
            if let opened = partial[shard].opened, opened.duration(to: .now) >= deadline { await hand(shard) }
        }
    }

    /// Shards with nothing queued have handled everything before the read position.
    func advanceIdleShards() {
        let at = position
        queue.tracker.withLock { t in
            for s in 0..<t.shards where t.outstanding[s] == 0 && partial[s].isEmpty && filter == nil {
                t.handled[s] = max(t.handled[s], at)
            }
        }
    }

    func saveProgress() {
        lastSave = .now
        queue.tracker.withLock { queue.save($0.progress) }
    }

    // MARK: Shards

    func startShards(_ n: Int, handled: [WALPosition]?) {
        shards = n
        partial = (0..<n).map { _ in Batch(capacity: config.queue.maxSamplesPerSend) }
        batchIDs = (0..<n).map { _ in defer { nextBatchID += 1 }; return nextBatchID }
        let perShard = max(1, config.queue.capacity / config.queue.maxSamplesPerSend)
        channels = (0..<n).map { _ in BatchChannel<Batch>(capacity: perShard) }
        let start = position
        queue.tracker.withLock { t in
            t.shards = n
            t.handled = handled ?? Array(repeating: start, count: n)
            t.outstanding = Array(repeating: 0, count: n)
        }
        queue.metrics.shards.store(n, ordering: .relaxed)
        let queue = self.queue
        shardTasks = channels.enumerated().map { shard, channel in
            Task { await queue.shardLoop(shard, generation: n, channel) }
        }
    }

    /// Sends every partial batch and waits until the shards finished all they were given.
    /// With a deadline (shutdown), a partial batch whose queue is full stays unsent, and
    /// shards still busy at the deadline are cancelled: what they held was not acknowledged,
    /// so the saved position keeps it for the next run.
    func drain(until deadline: ContinuousClock.Instant?) async {
        for s in 0..<shards {
            if deadline == nil { await hand(s); continue }
            let batch = partial[s]
            guard !batch.isEmpty else { continue }
            queue.tracker.withLock { $0.outstanding[s] += 1 }
            if channels[s].trySend(batch) {
                partial[s] = batch.successor(capacity: config.queue.maxSamplesPerSend)
                batchIDs[s] = nextBatchID
                nextBatchID += 1
            } else {
                queue.tracker.withLock { $0.outstanding[s] -= 1 }
            }
        }
        for c in channels { c.close() }
        let tasks = shardTasks
        if let deadline {
            while ContinuousClock.now < deadline, !queue.tracker.withLock({ $0.outstanding.allSatisfy { $0 == 0 } }) {
                try? await Task.sleep(for: .milliseconds(10))
            }
            for t in tasks { t.cancel() }
        }
        for t in tasks { await t.value }
    }

    /// Every `reshardInterval`: Prometheus' shard calculation, applied once the shards have
    /// finished what they hold (only while sends succeed).
    func maybeReshard() async {
        nextReshardCheck = .now + queue.settings.reshardInterval
        let desired = rates.desiredShards(ingest: queue.ingest(), sent: queue.sentSamples.load(ordering: .relaxed),
                                          sendNanoseconds: queue.metrics.sendNanoseconds.load(ordering: .relaxed),
                                          highestSent: queue.metrics.highestSentMillis.load(ordering: .relaxed),
                                          current: shards, config: config.queue)
        queue.metrics.shardsDesired.store(Int(desired.raw * 1000), ordering: .relaxed)
        guard desired.shards != shards, filter == nil else { return }
        let window = config.queue.batchSendDeadline.multipliedReportingOverflow(by: 2)
        let recent = window.overflow || WriteQueue.uptimeMillis() - queue.lastFinished.load(ordering: .relaxed) <= window.partialValue &+ 1000
        guard recent else { return }
        queue.logger.info("remote_write \(config.name): resharding from \(shards) to \(desired.shards) shards")
        await drain(until: nil)
        startShards(desired.shards, handled: nil)
        saveProgress()
    }

    func shutdown() async {
        // What is queued gets `flushDeadline` to go out; the rest is sent after a restart.
        // (In a task of its own: this one is cancelled, and its sleeps would not wait.)
        let deadline = ContinuousClock.now + queue.settings.flushDeadline
        await Task { await self.drain(until: deadline) }.value
        saveProgress()
    }
}
