import Storage

/// The series one rule wrote at its last evaluation, so that those gone from the next one get
/// a stale marker (as Prometheus' rule groups write them).
struct RuleOutput: Sendable {
    private(set) var previous: Set<Labels> = []

    /// Appends `samples` at `t`, then stale markers for the series of the last evaluation that
    /// are not among them. Samples the store refuses are counted, not fatal.
    /// Also returns the store's last refusal of a rule sample (as Prometheus, which makes it the
    /// rule's last error; a refused stale marker is expected when another rule writes the series).
    /// A refused sample's series is not marked stale later.
    mutating func write(_ samples: [(labels: Labels, v: Double)], at t: Int64,
                        to app: any Appender) -> (refused: Int, error: AppendError?) {
        var current = Set<Labels>(), refused = 0
        var lastError: AppendError?
        current.reserveCapacity(samples.count)
        for s in samples {
            do {
                _ = try app.append(s.labels, t, s.v)
                current.insert(s.labels)
            } catch {
                refused += 1
                lastError = error
            }
        }
        for gone in previous where !current.contains(gone) {
            do { _ = try app.append(gone, t, staleMarker) } catch { refused += 1 }
        }
        previous = current
        return (refused, lastError)
    }

    /// Stale markers for everything written last (the rule was removed or its group stopped).
    mutating func retire(at t: Int64, to app: any Appender) {
        for gone in previous { _ = try? app.append(gone, t, staleMarker) }
        previous = []
    }
}
