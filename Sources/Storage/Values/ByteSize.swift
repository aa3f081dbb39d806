/// Sizes in Prometheus' units (`B`, `KB`, `MB`, `GB`, `TB`, `PB`, `EB`: powers of 1024) or
/// plain bytes, as the flags and the configuration file write them.
public enum ByteSize {
    static let units: [(String, Int)] = [("EB", 1 << 60), ("PB", 1 << 50), ("TB", 1 << 40), ("GB", 1 << 30),
                                         ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)]

    /// Bytes of `s`; nil when it is malformed, negative or does not fit in 64 bits.
    public static func parse(_ s: String) -> Int? {
        var number = Substring(s), multiplier = 1
        if let (u, m) = units.first(where: { s.hasSuffix($0.0) }) {
            number = s.dropLast(u.count)
            multiplier = m
        }
        guard !number.isEmpty, number.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = Int(number) else { return nil }
        let (product, overflow) = n.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }
}
