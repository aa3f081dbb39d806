/// Prometheus' durations (Go's `model.Duration`): `1h30m`, `5m`, `1y`, units from largest to
/// smallest, as PromQL, the HTTP API, the flags and the configuration file write them. One
/// parser for all of them, bounded so that no duration from outside can overflow.
public enum PrometheusDuration {
    static let units: [(String, Int64)] = [("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000),
                                            ("h", 3_600_000), ("ms", 1), ("m", 60_000), ("s", 1000)]

    /// Whether `b` begins a unit.
    public static func unitStart(_ b: UInt8) -> Bool { "ywdhms".utf8.contains(b) }

    /// Longest duration: what Go's `time.Duration` holds (about 292 years), as in Prometheus.
    /// With times bounded by `maxTimestamp`, no sum or difference of a time and a duration
    /// can overflow.
    public static let maxMilliseconds: Int64 = Int64.max / 1_000_000

    /// Largest time, in milliseconds, that queries and `@` accept (about 292,000 years).
    public static let maxTimestamp: Int64 = 9_223_372_036_854_775

    /// Length of the unit at `i` (1 or 2), nil when there is none.
    public static func unitLength(_ bytes: [UInt8], _ i: Int) -> Int? {
        guard i < bytes.count, unitStart(bytes[i]) else { return nil }
        if bytes[i] == 109, i + 1 < bytes.count, bytes[i + 1] == 115 { return 2 }   // ms
        return 1
    }

    /// Milliseconds of a duration such as `1h30m`; nil when malformed or longer than
    /// `maxMilliseconds`.
    public static func parse(_ s: String) -> Int64? {
        let b = Array(s.utf8)
        var i = 0, total: Int64 = 0
        guard !b.isEmpty else { return nil }
        var lastUnit = -1
        while i < b.count {
            let start = i
            while i < b.count && (b[i] >= 48 && b[i] <= 57) { i += 1 }
            guard i > start, let n = Int64(String(decoding: b[start..<i], as: UTF8.self)), let len = unitLength(b, i) else { return nil }
            let unit = String(decoding: b[i..<(i + len)], as: UTF8.self)
            guard let k = units.firstIndex(where: { $0.0 == unit }) else { return nil }
            let order = [0, 1, 2, 3, 6, 4, 5][k]   // y w d h m s ms
            guard order > lastUnit else { return nil }
            lastUnit = order
            let (m, o1) = n.multipliedReportingOverflow(by: units[k].1)
            let (sum, o2) = total.addingReportingOverflow(m)
            guard !o1 && !o2, sum <= maxMilliseconds else { return nil }
            total = sum
            i += len
        }
        return total
    }

    /// The canonical text of a duration: `1h30m`, `0s`, `-5m`.
    public static func format(_ ms: Int64) -> String {
        if ms == 0 { return "0s" }
        var out = ms < 0 ? "-" : ""
        var rest = ms.magnitude
        for (unit, size) in [("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000),
                             ("m", 60_000), ("s", 1000), ("ms", 1)] as [(String, UInt64)] {
            if rest >= size {
                out += "\(rest / size)\(unit)"
                rest %= size
            }
        }
        return out
    }
}
