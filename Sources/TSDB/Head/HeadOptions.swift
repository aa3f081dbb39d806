import Foundation
import Storage

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

/// Floor division, for times before 1970.
@inline(__always)
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
