import Storage

/// A checkpoint not written because a segment it reads is damaged; no segment was removed.
struct CheckpointError: Error, CustomStringConvertible {
    let segment: String
    let reason: String
    var description: String { "checkpoint not written, WAL segments kept: \(segment): \(reason)" }
}

/// Checkpoints: `checkpoint.NNNNNNNN` directories inside the WAL directory holding, as WAL
/// segments, what segments 0...N held that the head still needs.
enum Checkpoint {
    static let prefix = "checkpoint."

    static func name(_ index: Int) -> String { prefix + WAL.segmentName(index) }

    /// The newest complete checkpoint's index.
    static func latest(in directory: String) -> Int? {
        Files.list(directory).compactMap { n -> Int? in
            guard n.hasPrefix(prefix), !n.hasSuffix(".tmp") else { return nil }
            return Int(n.dropFirst(prefix.count))
        }.max()
    }
}

extension Checkpoint {
    /// Writes `checkpoint.N` from the previous checkpoint and the segments up to `last`: a
    /// record of every series in the head, then the samples at or after `keepFrom` of series
    /// still in the head. Then deletes those segments and older checkpoints. Written to a
    /// temporary directory and renamed, so a crash leaves the old state intact.
    static func create(walDirectory dir: String, upTo last: Int, head: Head, keepFrom: Int64) throws {
        let final = dir + "/" + name(last)
        let tmp = final + ".tmp"
        Files.remove(tmp)
        try Files.makeDirectory(tmp)
        let out = try AppendFile(path: WAL.segmentPath(tmp, 0))
        var buffer: [UInt8] = []
        let series = head.allSeriesRefs()
        for start in stride(from: 0, to: series.count, by: 10_000) {
            WALEncoding.encodeSeries(Array(series[start..<min(start + 10_000, series.count)]), into: &buffer)
        }
        var inputs: [String] = []
        let previous = latest(in: dir)
        if let previous {
            let p = dir + "/" + name(previous)
            inputs += WAL.segmentIndices(in: p).map { WAL.segmentPath(p, $0) }
        }
        inputs += WAL.segmentIndices(in: dir).filter { $0 <= last && $0 > (previous ?? -1) }.map { WAL.segmentPath(dir, $0) }
        var kept: [WALSample] = []
        func flushSamples() throws {
            if !kept.isEmpty { WALEncoding.encodeSamples(kept, count: kept.count, into: &buffer) }
            kept.removeAll(keepingCapacity: true)
            if buffer.count > 1 << 20 { try out.append(buffer); buffer.removeAll(keepingCapacity: true) }
        }
        for path in inputs {
            var failure: (any Error)?
            let read = try WALReader.readSegment(path) { record in
                guard failure == nil, case .samples(let samples) = record else { return }
                for s in samples where s.t >= keepFrom && head.contains(s.ref) {
                    kept.append(s)
                    if kept.count >= 10_000 { do { try flushSamples() } catch { failure = error } }
                }
            }
            if let failure { throw failure }
            // Damage found after the replay read it whole: what follows it is still in the
            // head, and the segment is its only copy on disk. Keep every segment.
            if let corruption = read.corruption { throw CheckpointError(segment: path, reason: corruption) }
        }
        try flushSamples()
        let stones = head.allTombstones()
        if !stones.isEmpty { WALEncoding.encodeTombstones(stones, into: &buffer) }
        try out.append(buffer)
        try out.sync()
        out.close()
        Files.syncDirectory(tmp)
        Files.remove(final)
        try Files.rename(tmp, final)
        Files.syncDirectory(dir)
        for i in WAL.segmentIndices(in: dir) where i <= last { Files.remove(WAL.segmentPath(dir, i)) }
        for n in Files.list(dir) where n.hasPrefix(prefix) && n != name(last) { Files.remove(dir + "/" + n) }
    }
}
