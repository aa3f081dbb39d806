import Storage

// The series-lifetime rule of the head, in one place.
//
// A head series (`MemSeries`) is owned by its stripe: `Stripe.byHash` holds the strong
// reference, `Stripe.byRef` an unretained one for lookups by ref, and every field but `ref`
// and `labels` (immutable) is read and written under that stripe's lock (`walLogged` under the
// WAL's). References kept outside the stripe are unretained only where something else keeps
// the series alive:
//
// - `HeadAppender.PendingSample`: `reserve` pins the series (`pendingSamples` > 0) until the
//   appender commits or rolls back (or is dropped, which rolls back), and a pinned series is
//   never removed.
// - `SeriesHandle` (the scrape cache): its holder keeps `handle.owner`, a strong reference, for
//   as long as it keeps the handle. Once the series is removed, `removed` is set and appends
//   through the handle fail with `unknownSeriesRef`, so the holder appends by labels again.
// - WAL replay's table of series by sequence: replay runs before the head is shared, and
//   nothing is removed while it runs.
// - Queries keep nothing: under the stripe lock they copy the labels and take the chunks as
//   values that retain their own bytes.
//
// A series leaves the head only in `removeEmptySeries`, at truncation: under its stripe's
// lock, when it holds no chunk and no pending sample. It is taken out of both maps there and
// out of the postings right after. Debug builds check the maps after every truncation.

extension Head {
    /// Removes the series of one stripe that hold no data and no pending sample; returns them
    /// (marked `removed`). Runs under the stripe's lock.
    func removeEmptySeries(_ s: inout Stripe) -> [MemSeries] {
        var removed: [MemSeries] = []
        for (hash, list) in s.byHash {
            var keep: [MemSeries] = []
            for series in list {
                if series.isEmpty && series.pendingSamples == 0 {
                    s.byRef[series.ref] = nil
                    series.removed = true
                    removed.append(series)
                } else {
                    keep.append(series)
                }
            }
            if keep.count != list.count { s.byHash[hash] = keep.isEmpty ? nil : keep }
        }
        return removed
    }

    /// Checks that every stripe's two maps hold the same live series (debug builds only).
    func checkSeriesInvariants() {
        #if DEBUG
        for i in 0..<stripes.count {
            stripes.withLock(i) { s in
                var held = 0
                for (hash, list) in s.byHash {
                    for series in list {
                        held += 1
                        precondition(!series.removed, "removed series \(series.ref) still in its stripe")
                        precondition(series.labels.stableHash == hash, "series \(series.ref) under a wrong hash")
                        precondition(stripe(of: series.ref) == i, "series \(series.ref) in stripe \(i)")
                        precondition(s.byRef[series.ref]?.takeUnretainedValue() === series,
                                     "series \(series.ref) missing from byRef")
                    }
                }
                precondition(held == s.byRef.count, "stripe \(i): \(s.byRef.count) refs for \(held) series")
            }
        }
        #endif
    }
}
