import Logging

/// What a WAL replay did.
public struct WALReplayStats: Sendable, Equatable {
    public var segments = 0
    public var series = 0
    public var samples = 0
    /// Samples skipped because blocks already hold their time range.
    public var samplesInBlocks = 0
    /// Samples for refs without a series record (lost series records).
    public var unknownRefSamples = 0
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
    /// deleted, and the damage is logged and counted. Never fails for damage.
    func replay(walDirectory directory: String, logger: Logger) -> WALReplayStats {
        var stats = WALReplayStats()
        var state = ReplayState()
        var segments = WAL.segmentIndices(in: directory)
        if let checkpoint = Checkpoint.latest(in: directory) {
            let dir = directory + "/" + Checkpoint.name(checkpoint)
            for i in WAL.segmentIndices(in: dir) {
                if !replaySegment(WAL.segmentPath(dir, i), later: [], &state, &stats, logger) { break }
            }
            segments = segments.filter { $0 > checkpoint }
        }
        for (k, i) in segments.enumerated() {
            let later = segments[(k + 1)...].map { WAL.segmentPath(directory, $0) }
            if !replaySegment(WAL.segmentPath(directory, i), later: later, &state, &stats, logger) { break }
        }
        counters.extend(min: state.minTime, max: state.maxTime)
        return stats
    }

    struct ReplayState {
        var alias: [SeriesRef: SeriesRef] = [:]
        var minTime = Int64.max
        var maxTime = Int64.min
    }

    /// Replays one segment; false when it was damaged (and repaired).
    private func replaySegment(_ path: String, later: [String], _ state: inout ReplayState,
                               _ stats: inout WALReplayStats, _ logger: Logger) -> Bool {
        stats.segments += 1
        let result: SegmentReadResult
        do {
            result = try WALReader.readSegment(path) { record in apply(record, &state, &stats) }
        } catch {
            result = SegmentReadResult(validBytes: 0, corruption: "\(error)")
        }
        guard let corruption = result.corruption else { return true }
        let size = Files.size(path) ?? 0
        var dropped = size - result.validBytes
        if let file = try? AppendFile(path: path) {
            file.truncate(to: result.validBytes)
            try? file.sync()
            file.close()
        }
        for p in later {
            dropped += Files.size(p) ?? 0
            Files.remove(p)
        }
        stats.corruptions += 1
        stats.droppedBytes += dropped
        let line = "WAL segment \(path): \(corruption); truncated to \(result.validBytes) bytes, dropped \(dropped) bytes and \(later.count) later segments"
        stats.problems.append(line)
        logger.warning("\(line)")
        return false
    }

    private func apply(_ record: WALRecord, _ state: inout ReplayState, _ stats: inout WALReplayStats) {
        switch record {
        case .series(let list):
            for (ref, labels) in list {
                let actual = restoreSeries(ref: ref, labels: labels)
                if actual != ref { state.alias[ref] = actual }
                stats.series += 1
            }
        case .samples(let samples):
            let options = self.options
            let chunkFiles = self.chunkFiles
            let minValid = minValidTime.load(ordering: .relaxed)
            for s in samples {
                if s.t < minValid { stats.samplesInBlocks += 1; continue }
                let ref = state.alias[s.ref] ?? s.ref
                let outcome: AppendOutcome? = stripes.withLock(stripe(of: ref)) { st in
                    st.byRef[ref]?.takeUnretainedValue().append(s.t, s.v, options: options, chunkFiles: chunkFiles)
                }
                switch outcome {
                case .appended?:
                    stats.samples += 1
                    state.minTime = min(state.minTime, s.t)
                    state.maxTime = max(state.maxTime, s.t)
                case nil: stats.unknownRefSamples += 1
                default: break
                }
            }
        case .tombstones:
            break
        }
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
