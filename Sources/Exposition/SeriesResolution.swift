import Storage

/// What became of a sample's series text (see `SeriesTextCache.resolve`).
public enum SeriesResolution: Equatable {
    /// Cached before: the entry's index.
    case cached(Int)
    /// New, and created in the store with its first sample; its entry's index (nil when the
    /// cache is full) and ref.
    case created(Int?, SeriesRef)
    /// New, and `admit` dropped it: cached as dropped so it is not parsed again (index nil when
    /// the cache is full).
    case dropped(Int?)
    /// New, but the store refused its first sample: not cached, the next sample tries again.
    case refused
}

extension SeriesTextCache {
    /// The step every ingestion path shares (scrape, the import endpoint, `sextant import`): a
    /// sample's series text found in the cache (entry `guess` tried first, one compare when a
    /// target keeps its order), or else its labels parsed, passed to `admit` (which adds target
    /// labels, relabels and holds them to limits, or answers nil to drop the series), and the
    /// series created by `create` with its first sample, then cached as seen in scrape `seen`.
    ///
    /// `series` nil means the line held entry `guess`'s text. `create` answers nil when the
    /// store refuses the sample (skipped, not cached). A cached sample is left to the caller,
    /// which appends it its own way (by ref, by handle, with seen marks). Throws what parsing,
    /// `admit` or `create` throw, having cached nothing.
    @inlinable
    public mutating func resolve(_ series: ArraySlice<UInt8>?, guess: Int = -1, seen: Int = 0,
                                 admit: (Labels) throws -> Labels?,
                                 create: (Labels) throws -> (ref: SeriesRef, handle: SeriesHandle?)?) throws -> SeriesResolution {
        guard let series else { return .cached(guess) }
        if let i = index(of: series, guess: guess) { return .cached(i) }
        return try add(series, seen: seen, admit: admit, create: create)
    }

    /// The miss half of `resolve`, for a caller that looked `series` up itself and did not find
    /// it: labels parsed, admitted, created and cached.
    @inlinable
    public mutating func add(_ series: ArraySlice<UInt8>, seen: Int = 0,
                             admit: (Labels) throws -> Labels?,
                             create: (Labels) throws -> (ref: SeriesRef, handle: SeriesHandle?)?) throws -> SeriesResolution {
        let parsed = try SampleLineParser.parseSeries(Substring(decoding: series, as: UTF8.self))
        guard let labels = try admit(parsed), !labels.isEmpty else {
            return .dropped(insert(series, 0, dropped: true, seen: seen))
        }
        guard let new = try create(labels) else { return .refused }
        return .created(insert(series, new.ref, seen: seen, handle: new.handle), new.ref)
    }
}
