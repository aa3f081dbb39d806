import Logging
import Storage

/// What a WAL replay did.
public struct WALReplayStats: Sendable, Equatable {
    public var segments = 0
    public var series = 0
    public var samples = 0
    /// Samples skipped because blocks already hold their time range.
    public var samplesInBlocks = 0
    /// Samples for refs without a series record (lost series records).
    public var unknownRefSamples = 0
    /// Samples refused for times the store does not accept: before `HeadOptions.earliestTime`
    /// or past the clock's future window (logged by an older version that took them).
    public var refusedSamples = 0
    /// Torn or corrupt tails found and truncated.
    public var corruptions = 0
    /// Bytes removed by truncation, later segments included.
    public var droppedBytes = 0
    /// What was found wrong, one line per corruption.
    public var problems: [String] = []
}

extension Head {
    /// Replays the checkpoint and segments in `directory` into this (empty) head. A torn or
    /// corrupt record ends the replay: its segment is truncated there, later segments are
    /// deleted, and the damage is logged and counted. Never fails for damage. With `repair`
    /// false the files are left as they are and replay just stops at the damage.
    ///
    /// A segment that cannot be read (an I/O error, a permission, a file that is not a
    /// segment) is not damage: replay throws and no file is touched, so that the operator can
    /// fix the cause and open the store again with nothing lost.
    func replay(walDirectory directory: String, logger: Logger, repair: Bool = true) throws(FileError) -> WALReplayStats {
        var stats = WALReplayStats()
        var state = ReplayState()
        state.latestTime = options.latestTime
        var segments = WAL.segmentIndices(in: directory)
        if let checkpoint = Checkpoint.latest(in: directory) {
            let dir = directory + "/" + Checkpoint.name(checkpoint)
            for i in WAL.segmentIndices(in: dir) {
                if try !replaySegment(WAL.segmentPath(dir, i), later: [], repair: repair, &state, &stats, logger) { break }
            }
            segments = segments.filter { $0 > checkpoint }
        }
        for (k, i) in segments.enumerated() {
            let later = segments[(k + 1)...].map { WAL.segmentPath(directory, $0) }
            if try !replaySegment(WAL.segmentPath(directory, i), later: later, repair: repair, &state, &stats, logger) { break }
        }
        counters.extend(min: state.minTime, max: state.maxTime)
        if stats.refusedSamples > 0 {
            logger.warning("WAL replay refused \(stats.refusedSamples) samples stamped outside [\(HeadOptions.earliestTime), \(state.latestTime)] (too far in the future or unrepresentable)")
        }
        return stats
    }

    struct ReplayState {
        var alias: [SeriesRef: SeriesRef] = [:]
        /// Series by the sequence part of their ref (dense), to skip hashing per sample.
        var bySequence: [Unmanaged<MemSeries>?] = []
        var minTime = Int64.max
        var maxTime = Int64.min
        /// Samples waiting to be applied, by shard.
        var shards: [[WALSample]] = [[], []]
        /// Newest acceptable sample time, read from the clock when the replay starts.
        var latestTime = Int64.max
    }

    /// Replays one segment; false when it was damaged (and repaired).
    private func replaySegment(_ path: String, later: [String], repair: Bool, _ state: inout ReplayState,
                               _ stats: inout WALReplayStats, _ logger: Logger) throws(FileError) -> Bool {
        stats.segments += 1
        let result = try WALReader.readSegment(path) { record in apply(record, &state, &stats) }
        flushSamples(&state, &stats)
        guard let corruption = result.corruption else { return true }
        let size = Files.size(path) ?? 0
        var dropped = size - result.validBytes
        if repair, let file = try? AppendFile(path: path) {
            file.truncate(to: result.validBytes)
            try? file.sync()
            file.close()
        }
        for p in later {
            dropped += Files.size(p) ?? 0
            if repair { Files.remove(p) }
        }
        stats.corruptions += 1
        stats.droppedBytes += dropped
        let action = repair ? "truncated to" : "read up to"
        let line = "WAL segment \(path): \(corruption); \(action) \(result.validBytes) bytes, dropped \(dropped) bytes and \(later.count) later segments"
        stats.problems.append(line)
        logger.warning("\(line)")
        return false
    }

    private func apply(_ record: WALRecord, _ state: inout ReplayState, _ stats: inout WALReplayStats) {
        switch record {
        case .series(let list):
            // Samples already batched may refer to refs these records re-map: apply them first.
            flushSamples(&state, &stats)
            for (ref, labels) in list {
                let actual = restoreSeries(ref: ref, labels: labels)
                if actual != ref { state.alias[ref] = actual }
                let seq = Int(actual >> stripeBits)
                if seq < 1 << 26 {
                    if seq >= state.bySequence.count {
                        state.bySequence += Array(repeating: nil, count: seq + 1025 - state.bySequence.count)
                    }
                    state.bySequence[seq] = stripes.withLock(stripe(of: actual)) { $0.byRef[actual] }
                }
                stats.series += 1
            }
        case .samples(let samples):
            let minValid = minValidTime.load(ordering: .relaxed)
            let noAliases = state.alias.isEmpty
            for var s in samples {
                if s.t < minValid { stats.samplesInBlocks += 1; continue }
                if s.t > state.latestTime || s.t < HeadOptions.earliestTime { stats.refusedSamples += 1; continue }
                if !noAliases { s.ref = state.alias[s.ref] ?? s.ref }
                state.shards[Int(s.ref & 1)].append(s)
            }
            if state.shards[0].count + state.shards[1].count >= 1 << 16 { flushSamples(&state, &stats) }
        case .tombstones(let stones):
            flushSamples(&state, &stats)
            for var t in stones {
                t.ref = state.alias[t.ref] ?? t.ref
                restoreTombstone(t)
            }
        }
    }

    /// Applies the batched samples: series are split over two shards by the low bit of their
    /// ref (their stripe), so the shards touch disjoint series and run in parallel without
    /// locks. Replay runs before the head is shared, so no other thread holds a stripe.
    func flushSamples(_ state: inout ReplayState, _ stats: inout WALReplayStats) {
        guard !state.shards[0].isEmpty || !state.shards[1].isEmpty else { return }
        let shards = state.shards
        let lookup = state.bySequence
        let results = Parallel.map(2) { k in applyShard(shards[k], lookup) }
        for r in results {
            stats.samples += r.appended
            stats.unknownRefSamples += r.unknown
            state.minTime = min(state.minTime, r.minTime)
            state.maxTime = max(state.maxTime, r.maxTime)
        }
        state.shards[0].removeAll(keepingCapacity: true)
        state.shards[1].removeAll(keepingCapacity: true)
    }

    struct ShardResult {
        var appended = 0
        var unknown = 0
        var minTime = Int64.max
        var maxTime = Int64.min
    }

    private func applyShard(_ samples: [WALSample], _ bySequence: [Unmanaged<MemSeries>?]) -> ShardResult {
        var r = ShardResult()
        let options = self.options
        let chunkFiles = self.chunkFiles
        for s in samples {
            let ref = s.ref
            let seq = Int(truncatingIfNeeded: ref >> stripeBits)
            let outcome: AppendOutcome?
            if seq >= 0 && seq < bySequence.count, let u = bySequence[seq], u._withUnsafeGuaranteedRef({ $0.ref == ref }) {
                outcome = u._withUnsafeGuaranteedRef { $0.append(s.t, s.v, options: options, chunkFiles: chunkFiles) }
            } else {
                outcome = stripes.withLock(stripe(of: ref)) {
                    $0.byRef[ref]?.takeUnretainedValue().append(s.t, s.v, options: options, chunkFiles: chunkFiles)
                }
            }
            switch outcome {
            case .appended?:
                r.appended += 1
                r.minTime = min(r.minTime, s.t)
                r.maxTime = max(r.maxTime, s.t)
            case nil: r.unknown += 1
            default: break
            }
        }
        return r
    }

    /// Creates a series with the ref the log gave it (or finds it when its labels exist);
    /// returns the ref it lives under.
    func restoreSeries(ref: SeriesRef, labels: Labels) -> SeriesRef {
        let hash = labels.stableHash
        let index = Int(hash & stripeMask)
        // A ref whose stripe bits disagree with the hash (another stripe count) gets a new ref.
        let usable = (ref & stripeMask) == (hash & stripeMask)
        var created: MemSeries?
        let actual: SeriesRef = stripes.withLock(index) { s in
            if let existing = s.byHash[hash]?.first(where: { $0.labels == labels }) { return existing.ref }
            let newRef: SeriesRef
            if usable && s.byRef[ref] == nil {
                newRef = ref
                let seq = ref >> stripeBits
                var current = nextSequence.load(ordering: .relaxed)
                while current <= seq {
                    let (done, now) = nextSequence.compareExchange(expected: current, desired: seq + 1, ordering: .relaxed)
                    if done { break }
                    current = now
                }
            } else {
                newRef = (nextSequence.wrappingAdd(1, ordering: .relaxed).oldValue << stripeBits) | (hash & stripeMask)
            }
            let series = MemSeries(ref: newRef, labels: symbols.intern(labels))
            series.walLogged = true
            s.byHash[hash, default: []].append(series)
            s.byRef[newRef] = .passUnretained(series)
            created = series
            return newRef
        }
        if let series = created {
            postings.add(series.ref, series.labels)
            counters.seriesCreated.add(1, ordering: .relaxed)
        }
        return actual
    }
}
