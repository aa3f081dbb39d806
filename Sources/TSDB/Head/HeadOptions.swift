import Foundation

/// Tuning of the in-memory head.
public struct HeadOptions: Sendable {
    /// Samples per chunk before it is cut and sealed (Prometheus: 120); at most
    /// `ChunkHeader.maxSamples`.
    public var chunkSize = 120 {
        didSet { chunkSize = min(max(chunkSize, 1), ChunkHeader.maxSamples) }
    }
    /// Chunks never span a multiple of this range in milliseconds (the block range, 2h), so
    /// blocks can be cut without splitting chunks.
    public var chunkRange: Int64 = 2 * 3_600_000
    /// Number of lock stripes for the series map (a power of two).
    public var stripeCount = 1024
    /// How far ahead of the clock a sample may be stamped, in milliseconds; later ones are
    /// refused with `.tooFarInFuture` (Prometheus' `--storage.tsdb.too-far-in-future.time-window`).
    /// Retention and block cutting never look past this either, so one stray future sample
    /// cannot remove history or freeze ingestion.
    public var maxFuture: Int64 = 10 * 60_000
    /// The wall clock in milliseconds since the epoch, injected so tests control time.
    public var clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Earliest timestamp the store accepts: far enough from `Int64.min` that time arithmetic
    /// on stored times (block windows, ranges, offsets) cannot overflow.
    public static let earliestTime: Int64 = -(1 << 62)

    /// The newest timestamp the store accepts now.
    public var latestTime: Int64 {
        let now = clock()
        return now > Int64.max - maxFuture ? Int64.max : now + maxFuture
    }

    public init(chunkSize: Int = 120, chunkRange: Int64 = 2 * 3_600_000, stripeCount: Int = 1024) {
        self.chunkSize = min(max(chunkSize, 1), ChunkHeader.maxSamples)
        self.chunkRange = max(chunkRange, 1)
        var s = 1
        while s < stripeCount { s <<= 1 }
        self.stripeCount = s
    }
}

/// Why a sample was not appended.
public enum AppendError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Older than the series' newest sample.
    case outOfOrderSample
    /// Same timestamp as the series' newest sample with a different value.
    case duplicateSampleForTimestamp
    /// Older than the head's minimum valid time (that range is already in a block), or before
    /// `HeadOptions.earliestTime`.
    case outOfBounds
    /// Later than the clock plus `HeadOptions.maxFuture`.
    case tooFarInFuture
    /// No series has this ref.
    case unknownSeriesRef(SeriesRef)
    /// A series needs at least one label.
    case emptyLabels

    public var description: String {
        switch self {
        case .outOfOrderSample: "out of order sample"
        case .duplicateSampleForTimestamp: "duplicate sample for timestamp"
        case .outOfBounds: "out of bounds"
        case .tooFarInFuture: "too far in the future"
        case .unknownSeriesRef(let r): "unknown series ref \(r)"
        case .emptyLabels: "empty label set"
        }
    }
}

/// Floor division, for times before 1970.
@inline(__always)
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
