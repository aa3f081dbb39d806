/// One label: a name and a value.
public struct Label: Hashable, Sendable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A series' identity: label pairs sorted by name, names unique, no empty values (an empty
/// value means the label is absent, as in Prometheus).
public struct Labels: Hashable, Sendable, RandomAccessCollection, Comparable, CustomStringConvertible {
    /// The name of the label that holds the metric name.
    public static let metricName = "__name__"

    public private(set) var pairs: [Label]

    /// Builds labels from pairs in any order; the last of duplicate names wins, empty values drop.
    public init(_ pairs: [Label]) {
        var sorted = pairs.filter { !$0.value.isEmpty }
        sorted.sort { $0.name < $1.name }
        var unique: [Label] = []
        unique.reserveCapacity(sorted.count)
        for p in sorted {
            if let last = unique.last, last.name == p.name { unique[unique.count - 1] = p } else { unique.append(p) }
        }
        self.pairs = unique
    }

    /// Builds labels from a dictionary.
    public init(_ dictionary: [String: String]) {
        self.init(dictionary.map { Label($0.key, $0.value) })
    }

    /// Wraps pairs the caller guarantees sorted by name, unique, with non-empty values.
    public init(sorted pairs: [Label]) {
        self.pairs = pairs
    }

    public static let empty = Labels(sorted: [])

    public var startIndex: Int { pairs.startIndex }
    public var endIndex: Int { pairs.endIndex }
    public subscript(position: Int) -> Label { pairs[position] }

    /// The value of label `name`, or nil when absent.
    public subscript(name: String) -> String? {
        var lo = 0, hi = pairs.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if pairs[mid].name < name { lo = mid + 1 } else { hi = mid }
        }
        return lo < pairs.count && pairs[lo].name == name ? pairs[lo].value : nil
    }

    /// The metric name, if set.
    public var metricName: String? { self[Labels.metricName] }

    /// These labels with `name` set to `value` (removed when `value` is empty).
    public func setting(_ name: String, to value: String) -> Labels {
        var p = pairs.filter { $0.name != name }
        if !value.isEmpty {
            let i = p.firstIndex { $0.name > name } ?? p.endIndex
            p.insert(Label(name, value), at: i)
        }
        return Labels(sorted: p)
    }

    /// These labels without the given names.
    public func removing(_ names: Set<String>) -> Labels {
        Labels(sorted: pairs.filter { !names.contains($0.name) })
    }

    /// A hash that is the same in every process (for sharding and on-disk use), FNV-1a 64 over
    /// names and values separated by 0xff, a byte that never occurs in UTF-8.
    public var stableHash: UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for p in pairs {
            for b in p.name.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            h = (h ^ 0xff) &* 0x100_0000_01b3
            for b in p.value.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            h = (h ^ 0xff) &* 0x100_0000_01b3
        }
        return h
    }

    /// Prometheus' order: pair by pair, name then value; a prefix sorts first.
    public static func < (a: Labels, b: Labels) -> Bool {
        compare(a, b) < 0
    }

    public static func compare(_ a: Labels, _ b: Labels) -> Int {
        let n = Swift.min(a.pairs.count, b.pairs.count)
        for i in 0..<n {
            let x = a.pairs[i], y = b.pairs[i]
            if x.name != y.name { return x.name < y.name ? -1 : 1 }
            if x.value != y.value { return x.value < y.value ? -1 : 1 }
        }
        return a.pairs.count - b.pairs.count
    }

    /// `name{a="b", c="d"}` as Prometheus prints a series.
    public var description: String {
        var out = metricName ?? ""
        let rest = pairs.filter { $0.name != Labels.metricName }
        if rest.isEmpty && !out.isEmpty { return out }
        out += "{"
        out += rest.map { "\($0.name)=\(quoteLabelValue($0.value))" }.joined(separator: ", ")
        out += "}"
        return out
    }
}

/// A string in double quotes with Go's escapes (`strconv.Quote`), as Prometheus prints label
/// values and PromQL string literals.
public func quoteLabelValue(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if u.value < 0x20 || u.value == 0x7f {
                let h = String(u.value, radix: 16)
                out += "\\x" + (h.count < 2 ? "0" + h : h)
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out + "\""
}
