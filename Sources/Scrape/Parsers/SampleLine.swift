import TSDB

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
}

/// Parses single sample lines (the import format VictoriaMetrics and Prometheus' text
/// exposition share). Comment and blank lines give nil.
public enum SampleLineParser {
    public static func parse(_ line: Substring) throws(SampleLineError) -> SampleLine? {
        var s = line.utf8[...]
        skipSpaces(&s)
        guard let first = s.first, first != UInt8(ascii: "#") else { return nil }
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
        return SampleLine(labels: Labels(pairs), value: value, timestamp: timestamp)
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
