import Foundation

/// A sample of an exposition body, as written (the metric name is the sample's own, with its
/// suffix, and is not among `labels`).
public struct ExpositionSample: Sendable, Equatable {
    public var name: String
    public var labels: [(name: String, value: String)]
    public var value: Double
    /// Milliseconds.
    public var timestamp: Int64?
    public var hasExemplar = false
    /// Where the series text (`name{labels}` exactly as written) lies in the parsed body: the
    /// key a series cache looks up, parsed into labels only on a miss.
    public var series: Range<Int> = 0..<0

    public static func == (a: ExpositionSample, b: ExpositionSample) -> Bool {
        a.name == b.name && a.labels.elementsEqual(b.labels, by: { $0 == $1 })
            && a.value.bitPattern == b.value.bitPattern && a.timestamp == b.timestamp
    }
}

/// A metric family: its metadata and samples.
public struct MetricFamily: Sendable {
    public var name: String
    public var type = "unknown"
    public var help: String?
    public var unit: String?
    public var samples: [ExpositionSample] = []
}

/// Why a body was rejected, with its line.
public struct ExpositionError: Error, Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let message: String
    public var description: String { "line \(line): \(message)" }
}

/// The OpenMetrics 1.0 text format, validated as the specification requires: metadata before
/// samples, families not interleaved, suffixes by type, counter, histogram, summary, info and
/// stateset value rules, exemplars only where allowed, `# EOF` last.
public enum OpenMetricsParser {
    static let types: Set<String> = ["counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset", "unknown"]

    public static func parse(_ text: String) throws(ExpositionError) -> [MetricFamily] {
        try parse(Array(text.utf8))
    }

    /// Parses a whole body; each sample's `series` is a range of `body`.
    public static func parse(_ body: [UInt8]) throws(ExpositionError) -> [MetricFamily] {
        var lines: [Range<Int>] = []
        var start = 0
        while let newline = body[start...].firstIndex(of: 10) {
            lines.append(start..<newline)
            start = newline + 1
        }
        if start < body.count { lines.append(start..<body.count) }
        guard let last = lines.last, body[last].elementsEqual("# EOF".utf8) else {
            throw ExpositionError(line: lines.count, message: "missing # EOF at the end")
        }
        var state = State()
        for (i, line) in lines.dropLast().enumerated() {
            try state.line(body, line, number: i + 1)
        }
        try state.closeFamily(line: lines.count)
        return state.families
    }

    struct State {
        var families: [MetricFamily] = []
        var current: MetricFamily?
        var seenMetadata = Set<String>()
        var closed = Set<String>()
        var lastTimestamp: [String: Int64?] = [:]

        mutating func line(_ body: [UInt8], _ range: Range<Int>, number: Int) throws(ExpositionError) {
            func fail(_ m: String) -> ExpositionError { ExpositionError(line: number, message: m) }
            guard let first = range.first else { throw fail("empty line") }
            if body[first] == UInt8(ascii: "#") {
                try metadata(Substring(decoding: body[range], as: UTF8.self), fail)
            } else {
                try sample(body, range, fail)
            }
        }

        mutating func metadata(_ line: Substring, _ fail: (String) -> ExpositionError) throws(ExpositionError) {
            let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count >= 3, parts[0] == "#", isMetricName(parts[2]) else { throw fail("invalid comment line") }
            let kind = parts[1], name = String(parts[2])
            guard parts.count == 4 else { throw fail("\(kind) needs a value") }
            let value = parts[3]
            if current?.name != name {
                try closeFamily(line: 0)
                guard !closed.contains(name) else { throw fail("family \(name) appears twice") }
                current = MetricFamily(name: name)
                seenMetadata = []
            }
            guard current?.samples.isEmpty == true else { throw fail("metadata for \(name) after its samples") }
            guard seenMetadata.insert(String(kind)).inserted else { throw fail("repeated \(kind) for \(name)") }
            switch kind {
            case "TYPE":
                guard OpenMetricsParser.types.contains(String(value)) else { throw fail("invalid type \(value)") }
                current?.type = String(value)
                // The names the type's samples will use must not belong to an earlier family.
                for n in sampleNames(name, type: String(value)) where closed.contains(n) {
                    throw fail("\(n) clashes with an earlier family")
                }
            case "HELP":
                let help = try unescapeHelp(value, fail)
                current?.help = help
            case "UNIT":
                guard value.isEmpty || name.hasSuffix("_" + value) else { throw fail("unit \(value) is not a suffix of \(name)") }
                current?.unit = String(value)
            default:
                throw fail("unknown metadata \(kind)")
            }
            if let c = current, c.unit != nil, c.type == "info" || c.type == "stateset" {
                throw fail("\(c.type) cannot have a unit")
            }
        }

        func unescapeHelp(_ s: Substring, _ fail: (String) -> ExpositionError) throws(ExpositionError) -> String {
            var out = "", escaped = false
            for c in s {
                if escaped {
                    switch c {
                    case "n": out.append("\n")
                    case "\\", "\"": out.append(c)
                    default: out.append("\\"); out.append(c)   // unknown escapes stay as written
                    }
                    escaped = false
                } else if c == "\\" {
                    escaped = true
                } else {
                    out.append(c)
                }
            }
            if escaped { throw fail("HELP ends in a backslash") }
            return out
        }

        mutating func sample(_ body: [UInt8], _ line: Range<Int>, _ fail: (String) -> ExpositionError) throws(ExpositionError) {
            var s = Scanner(body, line)
            let name = s.name()
            guard isMetricName(name) else { throw fail("invalid metric name") }
            var labels: [(name: String, value: String)] = []
            if s.isPeek("{") {
                labels = try s.labels(fail)
                var names = Set<String>()
                for l in labels where !names.insert(l.name).inserted { throw fail("duplicate label \(l.name)") }
            }
            let series = line.lowerBound..<s.i
            guard s.take(" ") else { throw fail("expected a space before the value") }
            let valueText = s.token()
            guard let value = parseOMFloat(valueText) else { throw fail("invalid value \(valueText)") }
            var timestamp: Int64?
            var hasExemplar = false
            if s.take(" ") {
                if s.isPeek("#") {
                    try exemplar(&s, fail)
                    hasExemplar = true
                } else {
                    let t = s.token()
                    guard let seconds = parseOMFloat(t), seconds.isFinite else { throw fail("invalid timestamp \(t)") }
                    timestamp = saturatingMilliseconds(seconds)
                    if s.take(" ") {
                        guard s.isPeek("#") else { throw fail("unexpected text after the timestamp") }
                        try exemplar(&s, fail)
                        hasExemplar = true
                    }
                }
            }
            guard s.atEnd else { throw fail("unexpected text at the end of the line") }
            let sample = ExpositionSample(name: name, labels: labels, value: value, timestamp: timestamp, hasExemplar: hasExemplar,
                                          series: series)
            try place(sample, fail)
        }

        mutating func exemplar(_ s: inout Scanner, _ fail: (String) -> ExpositionError) throws(ExpositionError) {
            guard s.take("#"), s.take(" "), s.isPeek("{") else { throw fail("malformed exemplar") }
            let labels = try s.labels(fail)
            let length = labels.reduce(0) { $0 + $1.name.unicodeScalars.count + $1.value.unicodeScalars.count }
            guard length <= 128 else { throw fail("exemplar labels longer than 128 characters") }
            guard s.take(" ") else { throw fail("exemplar needs a value") }
            guard parseOMFloat(s.token()) != nil else { throw fail("invalid exemplar value") }
            if s.take(" ") {
                guard let t = parseOMFloat(s.token()), t.isFinite else { throw fail("invalid exemplar timestamp") }
            }
        }

        /// Puts a sample into its family, opening an untyped one when it belongs to none.
        mutating func place(_ sample: ExpositionSample, _ fail: (String) -> ExpositionError) throws(ExpositionError) {
            if let c = current, belongs(sample.name, to: c) {
                // ok
            } else {
                try closeFamily(line: 0)
                guard !closed.contains(sample.name) else { throw fail("family \(sample.name) appears twice") }
                current = MetricFamily(name: sample.name)
                seenMetadata = []
            }
            guard let family = current else { return }
            if sample.hasExemplar {
                let ok = (family.type == "counter" && sample.name == family.name + "_total")
                    || ((family.type == "histogram" || family.type == "gaugehistogram") && sample.name == family.name + "_bucket")
                guard ok else { throw fail("exemplar not allowed on \(sample.name)") }
            }
            // Timestamps of one series never go back, and are given always or never.
            let key = sample.name + "\u{0}" + sample.labels.map { $0.name + "=" + $0.value }.joined(separator: "\u{0}")
            if let previous = lastTimestamp[key] {
                switch (previous, sample.timestamp) {
                case (let p?, let t?) where t < p: throw fail("timestamps go backwards")
                case (nil, _?), (_?, nil): throw fail("timestamps given for only some samples of a series")
                default: break
                }
            }
            lastTimestamp[key] = sample.timestamp
            current?.samples.append(sample)
        }

        func belongs(_ name: String, to f: MetricFamily) -> Bool {
            sampleNames(f.name, type: f.type).contains(name)
        }

        /// The sample names a family of this type uses.
        func sampleNames(_ name: String, type: String) -> [String] {
            let suffixes: [String]
            switch type {
            case "counter": suffixes = ["_total", "_created"]
            case "histogram": suffixes = ["_bucket", "_count", "_sum", "_created"]
            case "gaugehistogram": suffixes = ["_bucket", "_gcount", "_gsum"]
            case "summary": suffixes = ["", "_count", "_sum", "_created"]
            case "info": suffixes = ["_info"]
            default: suffixes = [""]
            }
            return suffixes.map { name + $0 }
        }

        mutating func closeFamily(line: Int) throws(ExpositionError) {
            guard let f = current else { return }
            try FamilyRules.check(f)
            families.append(f)
            closed.insert(f.name)
            for n in sampleNames(f.name, type: f.type) { closed.insert(n) }
            current = nil
        }
    }
}

/// Value rules of each family type.
enum FamilyRules {
    static func check(_ f: MetricFamily) throws(ExpositionError) {
        func fail(_ m: String) -> ExpositionError { ExpositionError(line: 0, message: "\(f.name): \(m)") }
        func counterLike(_ v: Double) -> Bool { !v.isNaN && v >= 0 }
        switch f.type {
        case "counter":
            for s in f.samples where s.name.hasSuffix("_total") && !counterLike(s.value) { throw fail("counter value \(s.value)") }
        case "histogram", "gaugehistogram":
            try histogram(f, gauge: f.type == "gaugehistogram", fail)
        case "summary":
            for s in f.samples {
                if s.name == f.name {
                    guard let q = s.labels.first(where: { $0.name == "quantile" }).map({ $0.value }),
                          let qv = parseOMFloat(q), qv >= 0, qv <= 1 else { throw fail("summary quantile label missing or invalid") }
                    if s.value < 0 { throw fail("negative quantile value") }
                } else if s.name.hasSuffix("_count") || s.name.hasSuffix("_sum") {
                    if !counterLike(s.value) { throw fail("invalid \(s.name) value \(s.value)") }
                }
            }
        case "info":
            for s in f.samples where s.value != 1 { throw fail("info value must be 1") }
        case "stateset":
            for s in f.samples {
                guard s.value == 0 || s.value == 1 else { throw fail("stateset value must be 0 or 1") }
                guard s.labels.contains(where: { $0.name == f.name }) else { throw fail("stateset sample needs a \(f.name) label") }
            }
        default: break
        }
    }

    static func histogram(_ f: MetricFamily, gauge: Bool, _ fail: (String) -> ExpositionError) throws(ExpositionError) {
        let countName = f.name + (gauge ? "_gcount" : "_count"), sumName = f.name + (gauge ? "_gsum" : "_sum")
        // Groups: label sets without `le`, in the order they appear; they must not interleave.
        var order: [String] = []
        var groups: [String: [ExpositionSample]] = [:]
        var lastGroup: String?
        for s in f.samples where s.name != f.name + "_created" {
            let key = s.labels.filter { $0.name != "le" }.map { $0.name + "=" + $0.value }.joined(separator: ",")
            if key != lastGroup {
                guard groups[key] == nil else { throw fail("histogram groups are interleaved") }
                order.append(key)
                lastGroup = key
            }
            groups[key, default: []].append(s)
        }
        for key in order {
            let samples = groups[key] ?? []
            var buckets: [(le: Double, count: Double)] = []
            var count: Double?, sum: Double?
            var seenTotals = false
            for s in samples {
                if s.name == f.name + "_bucket" {
                    guard !seenTotals else { throw fail("bucket after count or sum") }
                    guard let le = s.labels.first(where: { $0.name == "le" })?.value else { throw fail("bucket without le") }
                    guard let bound = parseOMFloat(le), le != "+INF", le != "inf", le != "Inf" || bound.isFinite else { throw fail("invalid le \(le)") }
                    if le.lowercased().contains("inf") && le != "+Inf" { throw fail("invalid le \(le)") }
                    guard !s.value.isNaN, s.value >= 0 else { throw fail("invalid bucket count \(s.value)") }
                    if let last = buckets.last {
                        guard bound > last.le else { throw fail("buckets out of order") }
                        guard s.value >= last.count else { throw fail("bucket counts are not cumulative") }
                    }
                    buckets.append((bound, s.value))
                } else if s.name == countName {
                    seenTotals = true
                    guard !s.value.isNaN, s.value >= 0 else { throw fail("invalid count \(s.value)") }
                    count = s.value
                } else if s.name == sumName {
                    seenTotals = true
                    guard !s.value.isNaN else { throw fail("invalid sum \(s.value)") }
                    sum = s.value
                }
            }
            guard let last = buckets.last, last.le == .infinity else { throw fail("histogram without a +Inf bucket") }
            if (count == nil) != (sum == nil) { throw fail("count and sum must come together") }
            if let count, count != last.count { throw fail("count differs from the +Inf bucket") }
            let negative = buckets.contains { $0.le < 0 }
            if let sum {
                if !gauge && negative { throw fail("sum with negative buckets") }
                if !negative && sum < 0 { throw fail("negative sum") }
            }
        }
    }
}

/// Reads a sample line left to right, byte by byte (every byte the grammar names is ASCII, so
/// a multi-byte character never ends a token or a value early).
struct Scanner {
    let bytes: [UInt8]
    var i: Int
    let end: Int

    init(_ bytes: [UInt8], _ range: Range<Int>) {
        self.bytes = bytes
        i = range.lowerBound
        end = range.upperBound
    }

    var atEnd: Bool { i >= end }
    var peek: UInt8? { i < end ? bytes[i] : nil }

    mutating func take(_ c: Unicode.Scalar) -> Bool {
        guard peek == UInt8(ascii: c) else { return false }
        i += 1
        return true
    }

    func isPeek(_ c: Unicode.Scalar) -> Bool { peek == UInt8(ascii: c) }

    mutating func name() -> String {
        let start = i
        while let b = peek, SampleLineParser.isNameByte(b) { i += 1 }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    mutating func token() -> String {
        let start = i
        while let b = peek, b != 32 { i += 1 }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    mutating func labels(_ fail: (String) -> ExpositionError) throws(ExpositionError) -> [(name: String, value: String)] {
        guard take("{") else { throw fail("expected {") }
        var out: [(name: String, value: String)] = []
        if take("}") { return out }
        while true {
            let n = name()
            guard isLabelNameString(n) else { throw fail("invalid label name \(n)") }
            guard take("="), take("\"") else { throw fail("expected =\" after \(n)") }
            out.append((n, try quoted(fail)))
            if take(",") { continue }
            guard take("}") else { throw fail("expected , or }") }
            return out
        }
    }

    /// A label value after its opening quote, to the closing one.
    mutating func quoted(_ fail: (String) -> ExpositionError) throws(ExpositionError) -> String {
        var value: [UInt8] = []
        while true {
            guard let c = peek else { throw fail("unterminated label value") }
            i += 1
            if c == UInt8(ascii: "\"") { return String(decoding: value, as: UTF8.self) }
            guard c == UInt8(ascii: "\\") else {
                value.append(c)
                continue
            }
            guard let e = peek else { throw fail("unterminated escape") }
            i += 1
            switch e {
            case UInt8(ascii: "n"): value.append(10)
            case UInt8(ascii: "\\"), UInt8(ascii: "\""): value.append(e)
            default: value.append(contentsOf: [92, e])   // unknown escapes stay as written
            }
        }
    }
}

func isMetricName<S: StringProtocol>(_ s: S) -> Bool {
    guard let first = s.first, first.isASCII, first.isLetter || first == "_" || first == ":" else { return false }
    return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }
}

func isLabelNameString(_ s: String) -> Bool {
    guard let first = s.first, first.isASCII, first.isLetter || first == "_" else { return false }
    return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
}

/// An OpenMetrics number: decimal or scientific, `+Inf`, `-Inf`, `NaN` (case-insensitive
/// as Python's float, which the reference parser uses); no hex, no underscores.
func parseOMFloat(_ s: String) -> Double? {
    guard !s.isEmpty else { return nil }
    switch s.lowercased() {
    case "+inf", "inf", "+infinity", "infinity": return .infinity
    case "-inf", "-infinity": return -.infinity
    case "nan", "+nan", "-nan": return .nan
    default: break
    }
    let allowed = Set("0123456789+-.eE")
    guard s.allSatisfy({ allowed.contains($0) }) else { return nil }
    return Double(s)
}

/// Seconds as milliseconds, truncated toward zero as Prometheus' OpenMetrics parser does
/// (`int64(ts * 1000)`), clamped to Int64's range (a timestamp past year 292 million is
/// valid text, not a reason to trap).
func saturatingMilliseconds(_ seconds: Double) -> Int64 {
    let ms = (seconds * 1000).rounded(.towardZero)
    if ms >= 0x1p63 { return .max }
    if ms <= -0x1p63 { return .min }
    return Int64(ms)
}
