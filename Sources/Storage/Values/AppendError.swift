/// Why a sample was not appended.
public enum AppendError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Older than the series' newest sample.
    case outOfOrderSample
    /// Same timestamp as the series' newest sample with a different value.
    case duplicateSampleForTimestamp
    /// Before the earliest time the store takes (for a TSDB head: its minimum valid time, whose
    /// range is already in a block, or its configured earliest time).
    case outOfBounds
    /// Further ahead of the clock than the store takes (a TSDB head: its future window).
    case tooFarInFuture
    /// No series has this ref (or the handle's series is gone): append by labels again.
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
