import Foundation
import Storage

/// One sample line of the Prometheus text format: `name{label="value",…} value [timestamp]`.
public struct SampleLine: Sendable, Equatable {
    public var labels: Labels
    public var value: Double
    /// Milliseconds, when the line has one.
    public var timestamp: Int64?
}

/// Why a line was rejected.
public struct SampleLineError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    public init(message: String) { self.message = message }
}

/// Parses single sample lines (the import format VictoriaMetrics and Prometheus' text
/// exposition share). Comment and blank lines give nil.
public enum SampleLineParser {
    /// The longest line an importer holds while looking for its end; past it the input is
    /// not exposition text, and holding more would let one request or file take all memory.
    public static let maxLineLength = 16 << 20

    public static func parse(_ line: Substring) throws(SampleLineError) -> SampleLine? {
        var s = line.utf8[...]
        skipSpaces(&s)
        guard let first = s.first, first != UInt8(ascii: "#") else { return nil }
        let labels = try readSeries(&s, line)
        skipSpaces(&s)
        let valueText = readToken(&s)
        guard let value = parseValue(valueText) else { throw err("invalid value \"\(valueText)\"", line) }
        skipSpaces(&s)
        var timestamp: Int64?
        if !s.isEmpty {
            let t = readToken(&s)
            guard let ms = Int64(t) else { throw err("invalid timestamp \"\(t)\"", line) }
            timestamp = ms
            skipSpaces(&s)
            guard s.isEmpty else { throw err("unexpected text after the timestamp", line) }
        }
        return SampleLine(labels: labels, value: value, timestamp: timestamp)
    }

    /// The labels of a series part alone (`name{label="value",…}`, as `seriesEnd` cuts it).
    public static func parseSeries(_ text: Substring) throws(SampleLineError) -> Labels {
        var s = text.utf8[...]
        skipSpaces(&s)
        let labels = try readSeries(&s, text)
        skipSpaces(&s)
        guard s.isEmpty else { throw err("unexpected text after the labels", text) }
        return labels
    }

    /// Reads the metric name and labels at the start of `s`.
    static func readSeries(_ s: inout Substring.UTF8View.SubSequence, _ line: Substring) throws(SampleLineError) -> Labels {
        guard let first = s.first else { throw err("expected a metric name", line) }
        var pairs: [Label] = []
        if first != UInt8(ascii: "{") {
            let name = readName(&s, allowColon: true)
            guard !name.isEmpty else { throw err("expected a metric name", line) }
            pairs.append(Label(Labels.metricName, name))
        }
        skipSpaces(&s)
        if s.first == UInt8(ascii: "{") {
            s.removeFirst()
            while true {
                skipSpaces(&s)
                if s.first == UInt8(ascii: "}") { s.removeFirst(); break }
                let name = readName(&s, allowColon: false)
                guard !name.isEmpty else { throw err("expected a label name", line) }
                skipSpaces(&s)
                guard s.first == UInt8(ascii: "=") else { throw err("expected \"=\" after label \(name)", line) }
                s.removeFirst()
                skipSpaces(&s)
                guard s.first == UInt8(ascii: "\"") else { throw err("expected a quoted value for label \(name)", line) }
                s.removeFirst()
                let value = try readQuoted(&s, line)
                pairs.append(Label(name, value))
                skipSpaces(&s)
                if s.first == UInt8(ascii: ",") { s.removeFirst(); continue }
                guard s.first == UInt8(ascii: "}") else { throw err("expected \",\" or \"}\" in labels", line) }
                s.removeFirst()
                break
            }
        }
        guard !pairs.isEmpty else { throw err("a sample needs a metric name or labels", line) }
        let names = pairs.map(\.name)
        guard Set(names).count == names.count else { throw err("duplicate label name", line) }
        return Labels(pairs)
    }

    /// Where the series part of a line ends (the index after the closing brace, or after the
    /// metric name when there are no labels); nil when the line has no value after it.
    public static func seriesEnd(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8>.Index? {
        line.withUnsafeBufferPointer { seriesEnd($0) }.map { line.startIndex + $0 }
    }

    /// `seriesEnd` over raw bytes (every sample of a scrape goes through it), as an offset.
    static func seriesEnd(_ line: UnsafeBufferPointer<UInt8>) -> Int? {
        let n = line.count
        var i = 0
        while i < n && (line[i] == 32 || line[i] == 9) { i += 1 }
        var inQuotes = false, escaped = false, sawBrace = false
        while i < n {
            let b = line[i]
            if inQuotes {
                if escaped { escaped = false } else if b == 92 { escaped = true } else if b == 34 { inQuotes = false }
            } else if b == 34 {
                inQuotes = true
            } else if b == 125 {            // }
                return i + 1 < n ? i + 1 : nil
            } else if (b == 32 || b == 9) && !sawBrace {
                // A bare metric name ends here, unless labels follow after the blanks.
                var j = i
                while j < n && (line[j] == 32 || line[j] == 9) { j += 1 }
                if j < n && line[j] == 123 { i = j; continue }
                return i
            }
            if b == 123 { sawBrace = true }
            i += 1
        }
        return nil
    }

    /// `seriesEnd` of a line whose first `known` bytes (after leading blanks) are a series text
    /// that `seriesEnd` cut from another line: only the end of that text is checked. Gives what
    /// `seriesEnd` would (the same bytes drive the same scan), or nil when this check cannot
    /// tell and the line must be scanned.
    static func seriesEnd(_ line: UnsafeBufferPointer<UInt8>, known k: Int) -> Int? {
        guard k > 0 && k < line.count else { return nil }
        if line[k - 1] == 125 { return k }          // the text ended at its closing brace
        // A bare metric name ends at a blank, unless labels follow the blanks.
        for i in 0..<k where !isNameByte(line[i]) { return nil }
        guard line[k] == 32 || line[k] == 9 else { return nil }
        var j = k
        while j < line.count && (line[j] == 32 || line[j] == 9) { j += 1 }
        return j < line.count && line[j] == 123 ? nil : k
    }

    @inline(__always)
    static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || (b >= 48 && b <= 57) || b == 95 || b == 58
    }

    /// The value and optional timestamp after the series part of a line, read in place
    /// (no allocation on this path, which every cached sample of a scrape takes).
    public static func valueAndTimestamp(_ rest: ArraySlice<UInt8>) throws(SampleLineError) -> (Double, Int64?) {
        try rest.withUnsafeBufferPointer { (b) throws(SampleLineError) in try valueAndTimestamp(b) }
    }

    static func valueAndTimestamp(_ rest: UnsafeBufferPointer<UInt8>) throws(SampleLineError) -> (Double, Int64?) {
        try valueAndTimestamp(rest, timestamp: parseInt)
    }

    /// The value and optional timestamp after the series part of an OpenMetrics line: the
    /// timestamp is in seconds (given as milliseconds, as the scrape parser reads it) and an
    /// exemplar after `#` is ignored.
    public static func openMetricsValueAndTimestamp(_ rest: ArraySlice<UInt8>) throws(SampleLineError) -> (Double, Int64?) {
        let sample = rest.firstIndex(of: UInt8(ascii: "#")).map { rest[..<$0] } ?? rest
        return try sample.withUnsafeBufferPointer { (b) throws(SampleLineError) in
            try valueAndTimestamp(b) { text in
                guard let seconds = parseValue(text), seconds.isFinite else { return nil }
                return saturatingMilliseconds(seconds)
            }
        }
    }

    @inline(__always)
    static func valueAndTimestamp(_ rest: UnsafeBufferPointer<UInt8>,
                                  timestamp parseTimestamp: (UnsafeBufferPointer<UInt8>) -> Int64?) throws(SampleLineError) -> (Double, Int64?) {
        var i = 0
        func blank(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 13 }
        func token() -> UnsafeBufferPointer<UInt8>? {
            while i < rest.count && blank(rest[i]) { i += 1 }
            guard i < rest.count else { return nil }
            let start = i
            while i < rest.count && !blank(rest[i]) { i += 1 }
            return UnsafeBufferPointer(rebasing: rest[start..<i])
        }
        guard let v = token() else {
            throw SampleLineError(message: "expected a value: \(String(decoding: rest.prefix(200), as: UTF8.self))")
        }
        guard let value = parseValue(v) else {
            throw SampleLineError(message: "invalid value \"\(String(decoding: v, as: UTF8.self))\"")
        }
        guard let t = token() else { return (value, nil) }
        guard let ms = parseTimestamp(t) else {
            throw SampleLineError(message: "invalid timestamp \"\(String(decoding: t, as: UTF8.self))\"")
        }
        guard token() == nil else {
            throw SampleLineError(message: "unexpected text after the timestamp: \(String(decoding: rest.prefix(200), as: UTF8.self))")
        }
        return (value, ms)
    }

    /// A value from its bytes: integers directly, other numbers through `strtod` on a stack
    /// copy, the special spellings by name.
    public static func parseValue(_ b: ArraySlice<UInt8>) -> Double? {
        b.withUnsafeBufferPointer { parseValue($0) }
    }

    static func parseValue(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        // Plain integers (most counters) without leaving the bytes.
        if b.count <= 15, let first = b.first, first != 43 {
            var neg = false, i = 0, v: Int64 = 0, digits = 0
            if first == 45 { neg = true; i += 1 }
            while i < b.count, b[i] >= 48 && b[i] <= 57 {
                v = v * 10 + Int64(b[i] - 48)
                digits += 1
                i += 1
            }
            if i == b.count && digits > 0 { return neg ? -Double(v) : Double(v) }
        }
        guard let first = b.first, first == 45 || first == 43 || first == 46 || (first >= 48 && first <= 57)
                || first == 73 || first == 105 || first == 78 || first == 110 else { return nil }
        guard b.count < 64 else { return parseValue(String(decoding: b, as: UTF8.self)) }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: b.count + 1) { buf -> Double? in
            for (k, c) in b.enumerated() { buf[k] = CChar(bitPattern: c) }
            buf[b.count] = 0
            guard let base = buf.baseAddress else { return nil }
            // Spellings strtod accepts but the format does not (hex, "infinity" and so on) go
            // through the strict path.
            if b.contains(where: { $0 == 120 || $0 == 88 || $0 == 112 || $0 == 80 || $0 == 95 }) { return nil }
            if b.contains(where: { ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) && $0 != 101 && $0 != 69 }) {
                return parseValue(String(decoding: b, as: UTF8.self))
            }
            var end: UnsafeMutablePointer<CChar>?
            let v = strtod(base, &end)
            guard let end, end == base + b.count else { return nil }
            return v
        }
    }

    static func parseInt(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        var negative = false
        if i < b.count && (b[i] == 45 || b[i] == 43) { negative = b[i] == 45; i += 1 }
        guard i < b.count else { return nil }
        var v: Int64 = 0
        while i < b.count {
            let d = b[i]
            guard d >= 48 && d <= 57 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(d - 48))
            guard !o1 && !o2 else { return nil }
            v = s
            i += 1
        }
        return negative ? -v : v
    }

    static func err(_ m: String, _ line: Substring) -> SampleLineError {
        SampleLineError(message: "\(m): \(line.prefix(200))")
    }

    static func skipSpaces(_ s: inout Substring.UTF8View.SubSequence) {
        while let b = s.first, b == 32 || b == 9 || b == 13 { s.removeFirst() }
    }

    static func readName(_ s: inout Substring.UTF8View.SubSequence, allowColon: Bool) -> String {
        var out: [UInt8] = []
        while let b = s.first {
            let ok = (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || b == 95 || (allowColon && b == 58)
                || (!out.isEmpty && b >= 48 && b <= 57)
            guard ok else { break }
            out.append(b)
            s.removeFirst()
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func readQuoted(_ s: inout Substring.UTF8View.SubSequence, _ line: Substring) throws(SampleLineError) -> String {
        var out: [UInt8] = []
        while let b = s.first {
            s.removeFirst()
            if b == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            if b == UInt8(ascii: "\\") {
                guard let e = s.first else { break }
                s.removeFirst()
                switch e {
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "\\"), UInt8(ascii: "\""): out.append(e)
                default: out.append(contentsOf: [92, e])
                }
            } else {
                out.append(b)
            }
        }
        throw err("unterminated label value", line)
    }

    static func readToken(_ s: inout Substring.UTF8View.SubSequence) -> String {
        var out: [UInt8] = []
        while let b = s.first, b != 32 && b != 9 {
            out.append(b)
            s.removeFirst()
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Go's ParseFloat spellings as the text format allows them.
    public static func parseValue(_ t: String) -> Double? {
        switch t {
        case "+Inf", "Inf", "+inf", "inf": return .infinity
        case "-Inf", "-inf": return -.infinity
        case "NaN", "nan": return .nan
        default:
            guard let first = t.utf8.first, first == 45 || first == 43 || first == 46 || (first >= 48 && first <= 57) else { return nil }
            return Double(t)
        }
    }
}
