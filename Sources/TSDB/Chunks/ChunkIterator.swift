import Storage

/// Iterates one chunk's samples in time order without allocating per sample.
///
/// `next()` moves to the next sample; `seek(to:)` moves to the first sample at or after a time,
/// decoding only the timestamp column while it searches; `at()` reads the current sample.
/// A damaged chunk never traps: iteration stops and `error` says why.
public struct ChunkIterator {
    @usableFromInline let chunk: Chunk?
    @usableFromInline var timestamps: TimestampDecoder
    @usableFromInline var values: ValueDecoder
    @usableFromInline let count: Int
    @usableFromInline let maxTime: Int64
    /// Timestamps decoded so far; the current sample is number `position - 1`.
    @usableFromInline var position = 0
    /// Values decoded so far (lags `position` only inside `seek`).
    @usableFromInline var valuesDecoded = 0
    /// Why iteration stopped early, if it did.
    public private(set) var error: ChunkError?

    init(_ chunk: Chunk) {
        do throws(ChunkError) {
            let h = try chunk.header()
            let b = chunk.bytes
            let (encoding, column) = try chunk.timestampColumn(h)
            let ts = try TimestampDecoder(encoding, column: column, minTime: h.minTime)
            let vs = try ValueDecoder(h.encoding.values, column: UnsafeRawBufferPointer(rebasing: b[h.valueColumn]))
            if h.count > 1 && column.isEmpty { throw .corruptColumn("empty timestamp column") }
            self.init(chunk: chunk, timestamps: ts, values: vs, count: h.count, maxTime: h.maxTime)
        } catch {
            self.init(failed: error)
        }
    }

    init(chunk: Chunk?, timestamps: TimestampDecoder, values: ValueDecoder, count: Int, maxTime: Int64) {
        self.chunk = chunk
        self.timestamps = timestamps
        self.values = values
        self.count = count
        self.maxTime = maxTime
    }

    /// An iterator with no samples that reports `error`.
    init(failed error: ChunkError) {
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        self.init(chunk: nil, timestamps: TimestampDecoder(empty: empty), values: ValueDecoder(empty: empty),
                  count: 0, maxTime: 0)
        self.error = error
    }

    /// Moves to the next sample; false at the end or on a damaged chunk.
    @inlinable @inline(__always)
    public mutating func next() -> Bool {
        // A failure sets `position` to `count`, so this one comparison also stops on errors.
        guard position < count else { return false }
        if position > 0 { timestamps.advance() }
        if valuesDecoded > 0 { values.advance() }
        position &+= 1
        valuesDecoded &+= 1
        return checkAfterStep()
    }

    /// Moves to the first sample at or after `time` (staying put if the current one is);
    /// false when there is none.
    @inlinable
    public mutating func seek(to time: Int64) -> Bool {
        guard error == nil else { return false }   // rare path: seeks are per query step, not per sample
        if position > 0 && timestamps.t >= time { return true }
        guard time <= maxTime, position < count else {
            position = count
            valuesDecoded = count
            return false
        }
        repeat {
            if position > 0 { timestamps.advance() }
            position &+= 1
        } while timestamps.t < time && position < count && !timestamps.reader.overrun
        while valuesDecoded < position {
            if valuesDecoded > 0 { values.advance() }
            valuesDecoded &+= 1
        }
        guard checkAfterStep() else { return false }
        return timestamps.t >= time
    }

    /// The current sample.
    @inlinable @inline(__always)
    public func at() -> (t: Int64, v: Double) {
        (timestamps.t, values.value)
    }

    @inlinable @inline(__always)
    mutating func checkAfterStep() -> Bool {
        if timestamps.reader.overrun || values.reader.overrun {
            return fail(.corruptColumn("column ended before sample \(position) of \(count)"))
        }
        if position == count && timestamps.t != maxTime {
            return fail(.corruptColumn("last timestamp \(timestamps.t) is not the header's \(maxTime)"))
        }
        return true
    }

    @usableFromInline
    mutating func fail(_ e: ChunkError) -> Bool {
        error = e
        position = count
        return false
    }
}

extension ChunkIterator {
    /// Samples left in the chunk, the current one included.
    @inlinable
    public var remaining: Int { position == 0 ? count : count - position + 1 }

    /// Writes the current sample and the rest of the chunk, up to `maxt`, to `ts` and `vs`
    /// (room for `remaining` samples each) in one tight loop; returns how many were written
    /// and whether a sample after `maxt` was met. The iterator must be on a sample. A damaged
    /// column ends the run and sets `error`.
    @inlinable
    public mutating func drain(upTo maxt: Int64, into ts: UnsafeMutablePointer<Int64>,
                               _ vs: UnsafeMutablePointer<Double>) -> (written: Int, pastEnd: Bool) {
        guard position > 0, error == nil else { return (0, false) }
        var n = 0
        while true {
            let t = timestamps.t
            if t > maxt { return (n, true) }
            ts[n] = t
            vs[n] = values.value
            n &+= 1
            guard position < count else { return (n, false) }
            timestamps.advance()
            values.advance()
            position &+= 1
            valuesDecoded &+= 1
            // As `next()`: a sample decoded past a damaged column's end is not written.
            guard checkAfterStep() else { return (n, false) }
        }
    }
}

extension ChunkIterator {
    /// On the first sample, not yet moved.
    var atFirstSample: Bool { position == 1 && valuesDecoded == 1 }

    /// Writes every value of the chunk to `vs` (room for `count`) without decoding the
    /// timestamps, which the caller has; the iterator must be on its first sample and ends on
    /// the last. Returns how many were written (fewer, with `error` set, on a damaged column).
    mutating func drainValues(into vs: UnsafeMutablePointer<Double>) -> Int {
        guard atFirstSample, error == nil else { return 0 }
        vs[0] = values.value
        var n = 1
        while n < count {
            values.advance()
            if values.reader.overrun {
                _ = fail(.corruptColumn("column ended before sample \(n + 1) of \(count)"))
                return n
            }
            vs[n] = values.value
            n &+= 1
        }
        position = count
        valuesDecoded = count
        timestamps.t = maxTime
        return n
    }
}

extension TimestampDecoder {
    init(empty: UnsafeRawBufferPointer) {
        reader = BitReader(empty)
        encoding = .deltaOfDelta
        t = 0
    }
}

extension ValueDecoder {
    init(empty: UnsafeRawBufferPointer) {
        reader = BitReader(empty)
        encoding = .constant
    }
}
