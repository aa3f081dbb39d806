import Storage

/// Exposition lines read one at a time into a store, the way every importer does it (the
/// import endpoint, `sextant import`): blank lines skipped, comment lines handed back, the
/// value and timestamp read in the format's units, the series text looked up in a cache and
/// its labels parsed and held to limits only on a miss, so a repeated series costs a hash and
/// a compare.
public struct LineIngester {
    /// How a line's value and timestamp read: milliseconds (Prometheus text) or seconds
    /// (OpenMetrics).
    public enum Format: Sendable {
        case text
        case openMetrics
    }

    /// What a line was.
    public enum Line {
        case blank
        /// A comment (`# HELP`, `# TYPE`, `# EOF`...), from its `#`.
        case comment(ArraySlice<UInt8>)
        case sample
    }

    public let format: Format
    public let limits: LabelLimits
    /// Series texts already seen, to their refs; bounded whatever the input holds.
    public var cache: SeriesTextCache { seen }
    @usableFromInline var seen: SeriesTextCache

    public init(format: Format, limits: LabelLimits = .importDefaults, cacheCapacity: Int) {
        self.format = format
        self.limits = limits
        seen = SeriesTextCache(capacity: cacheCapacity)
    }

    /// Reads one line. A sample's timestamp goes through `time` (which supplies a default or
    /// refuses it), then the sample to `append` when its series is cached, or to `create` with
    /// its labels when not (which answers the new series' ref, cached from then on; see
    /// `SeriesTextCache.resolve`, the step scrapes share). Throws
    /// what is wrong with the line, or what the closures throw; a line that throws has added
    /// nothing. Inlinable, so each importer gets it specialized with its own closures.
    @inlinable
    public mutating func ingest(_ bytes: ArraySlice<UInt8>,
                                time: (Int64?) throws -> Int64,
                                create: (Labels, Int64, Double) throws -> SeriesRef,
                                append: (SeriesRef, Int64, Double) throws -> Void) throws -> Line {
        guard let first = bytes.firstIndex(where: { $0 != 32 && $0 != 9 && $0 != 13 }) else { return .blank }
        if bytes[first] == UInt8(ascii: "#") { return .comment(bytes[first...]) }
        guard let split = SampleLineParser.seriesEnd(bytes) else {
            // Not a series followed by a value: the whole-line parser says what is wrong.
            _ = try SampleLineParser.parse(Substring(decoding: bytes, as: UTF8.self))
            throw SampleLineError(message: "expected a series and a value")
        }
        let (value, timestamp) = switch format {
        case .text: try SampleLineParser.valueAndTimestamp(bytes[split...])
        case .openMetrics: try SampleLineParser.openMetricsValueAndTimestamp(bytes[split...])
        }
        let t = try time(timestamp)
        let series = bytes[..<split]
        if let ref = seen.ref(for: series) {
            try append(ref, t, value)
            return .sample
        }
        let limits = limits
        _ = try seen.add(series, admit: { labels in
            try limits.check(labels)
            return labels
        }, create: { labels in (try create(labels, t, value), nil) })
        return .sample
    }
}
